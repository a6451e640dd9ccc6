// Every call this page makes to the MuseAIka API, one small function each: a worked example for frontends.
// Nothing here is private to the page: it is the public API described at /docs.

// URLs are relative to this file (served at <origin>/try/api.js), so the page talks to the origin it was loaded
// from, also behind a proxy that mounts MuseAIka under a path prefix.
const API_ROOT = new URL("../", import.meta.url);

export function apiUrl(path) {
  return new URL(path.replace(/^\//, ""), API_ROOT);
}

// An API refusal or a network failure, with a message in plain words for people (never raw JSON).
export class ApiError extends Error {
  constructor(message, { status = 0, detail = null, retryAfter = null, dependency = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status; // 0: no answer at all (network)
    this.detail = detail;
    this.retryAfter = retryAfter; // seconds, from Retry-After (503, 429)
    this.dependency = dependency;
  }
}

// FastAPI's validation errors are a list of {loc, msg}; MuseAIka's own refusals are one string.
function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        const where = Array.isArray(item?.loc) ? item.loc.filter((part) => part !== "body").join(".") : "";
        return where ? `${where}: ${item?.msg ?? "invalid"}` : String(item?.msg ?? "invalid");
      })
      .join("; ");
  }
  return "";
}

// Retry-After is seconds or an HTTP date.
function retryAfterSeconds(header) {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const when = Date.parse(header);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

function sentence(text) {
  const trimmed = text.trim().replace(/\.$/, "");
  return trimmed ? trimmed[0].toUpperCase() + trimmed.slice(1) + "." : "";
}

export function errorFromResponse(response, body) {
  const status = response.status;
  const detail = detailText(body?.detail);
  const retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
  const dependency = typeof body?.dependency === "string" ? body.dependency : null;
  const wait = retryAfter === null ? "a few seconds" : `${retryAfter} s`;
  let message;
  if (status === 503) {
    message = `A service we depend on${dependency ? ` (${dependency})` : ""} is down, try again in ${wait}.`;
    if (detail) message += ` Details: ${detail}.`;
  } else if (status === 429) {
    message = `Too many attempts, try again in ${wait}.${detail ? ` (${detail})` : ""}`;
  } else if (status === 401) {
    message = `Sign-in refused or expired: ${detail || "please sign in"}.`;
  } else if (status === 413) {
    message = `That is too large: ${detail || "the server refused its size"}.`;
  } else if (status === 415) {
    message = `That file is not a photo we can read (use JPEG, PNG or WebP): ${detail}.`;
  } else if (status === 422) {
    message = `Please check what you entered: ${detail || "it was not accepted"}.`;
  } else if (status === 404) {
    message = `Not found: ${detail || "it may have been deleted"}.`;
  } else if (status >= 500) {
    message = `The server had a problem (${status} ${response.statusText}). Please try again in a moment.`;
  } else {
    message = sentence(detail) || `The server refused the request (${status} ${response.statusText}).`;
  }
  return new ApiError(message, { status, detail, retryAfter, dependency });
}

const NETWORK_MESSAGE = "Could not reach MuseAIka (a network error, or the server is not running). " +
  "Check your connection and try again.";

// One HTTP call. `json`, `form` (FormData, sent as multipart) or `urlencoded` (an object) is the body.
export async function request(path, { method = "GET", json, form, urlencoded, token } = {}) {
  const headers = {};
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser writes the multipart boundary itself: do not set Content-Type
  } else if (urlencoded !== undefined) {
    body = new URLSearchParams(urlencoded);
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(apiUrl(path), { method, headers, body });
  } catch {
    throw new ApiError(NETWORK_MESSAGE);
  }
  let data = null;
  if ((response.headers.get("Content-Type") || "").includes("application/json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw errorFromResponse(response, data);
  return data;
}

// -- the signed-in user ----------------------------------------------------------------------------------------
// Tokens live in sessionStorage: they survive a reload of this tab and disappear with it.
const SESSION_KEY = "museaika.session";

export const session = {
  accessToken: null,
  refreshToken: null,
  email: null,
  load() {
    try {
      Object.assign(this, JSON.parse(sessionStorage.getItem(SESSION_KEY) || "{}"));
    } catch {
      this.clear();
    }
    return this.signedIn;
  },
  save(tokens, email = this.email) {
    this.accessToken = tokens.access_token;
    this.refreshToken = tokens.refresh_token;
    this.email = email;
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({
      accessToken: this.accessToken, refreshToken: this.refreshToken, email: this.email,
    }));
  },
  clear() {
    this.accessToken = this.refreshToken = this.email = null;
    sessionStorage.removeItem(SESSION_KEY);
  },
  get signedIn() {
    return Boolean(this.accessToken);
  },
};

// POST /v1/auth/refresh: a refresh token works once and is traded for a new pair.
async function refreshTokens() {
  const tokens = await request("v1/auth/refresh", { method: "POST", json: { refresh_token: session.refreshToken } });
  session.save(tokens);
}

// A call as the signed-in user; an access token lives 15 minutes, so a 401 is retried once after a refresh.
export async function authedRequest(path, options = {}) {
  try {
    return await request(path, { ...options, token: session.accessToken });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || !session.refreshToken) throw error;
    try {
      await refreshTokens();
    } catch {
      session.clear();
      throw new ApiError("Your session has ended. Please sign in again.", { status: 401 });
    }
    return request(path, { ...options, token: session.accessToken });
  }
}

// -- accounts --------------------------------------------------------------------------------------------------
// POST /v1/users (JSON): 201 with the user; 409 if the email is taken, 422 naming the password rule.
export function signUp(email, password) {
  return request("v1/users", { method: "POST", json: { email, password } });
}

// POST /v1/auth/token: the OAuth2 password flow, form-encoded, username = email → access + refresh token.
export async function signIn(email, password) {
  const tokens = await request("v1/auth/token", { method: "POST", urlencoded: { username: email, password } });
  session.save(tokens, email);
  return tokens;
}

// -- moods -----------------------------------------------------------------------------------------------------
// POST /v1/moods (multipart): `image` and/or `text`. Each part's emotions, one fused mood, and a `reason` when a
// part has no mood (e.g. 200 with `face.faces: []` when no face was found). Signed in: it joins the history.
export function findMood({ image, imageName = "photo.jpg", text }) {
  const form = new FormData();
  if (image) form.append("image", image, imageName);
  if (text) form.append("text", text);
  const options = { method: "POST", form };
  return session.signedIn ? authedRequest("v1/moods", options) : request("v1/moods", options);
}

// GET /v1/moods/summary?period=7d: events per mood label and mean valence/arousal per day.
export function moodSummary(period = "7d") {
  return authedRequest(`v1/moods/summary?period=${encodeURIComponent(period)}`);
}

// GET /v1/moods/history?limit=N: the caller's mood events, newest first (`next_cursor` pages on).
export function moodHistory(limit = 5) {
  return authedRequest(`v1/moods/history?limit=${limit}`);
}

// -- music -----------------------------------------------------------------------------------------------------
// POST /v1/recommendations: ranked tracks for a mood, each with `fit` and `why` (the mood the track-mood model
// places it in and the features, in words, that put it there). Works anonymously (the catalog alone); signed in,
// the user's 👍/👎 shape it, and with Spotify linked the user's library is ranked too.
export function recommend(mood, limit = 8) {
  const options = { method: "POST", json: { mood, limit } };
  return session.signedIn ? authedRequest("v1/recommendations", options) : request("v1/recommendations", options);
}

// POST /v1/recommendations/feedback: 👍 ("like") or 👎 ("dislike") a track; the next ranking follows it.
export function giveFeedback(trackId, verdict) {
  return authedRequest("v1/recommendations/feedback", { method: "POST", json: { track_id: trackId, verdict } });
}

// POST /v1/melodies: 202 with a job at once; a worker composes, renders and uploads it.
export function makeMelody(mood, bars, instrument) {
  return authedRequest("v1/melodies", { method: "POST", json: { mood, bars, instrument } });
}

// POST /v1/jobs/{id}/retry: queue a failed job again (same parameters and seed).
export function retryJob(jobId) {
  return authedRequest(`v1/jobs/${encodeURIComponent(jobId)}/retry`, { method: "POST" });
}

// GET /v1/jobs/{id}: the job as it stands (used when the WebSocket is not available).
export function getJob(jobId) {
  return authedRequest(`v1/jobs/${encodeURIComponent(jobId)}`);
}

const TERMINAL = new Set(["done", "failed"]);

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pollJob(jobId, onEvent) {
  for (;;) {
    const job = await getJob(jobId);
    onEvent({ job_id: job.id, stage: job.stage, state: job.state, progress: job.progress, error: job.error });
    if (TERMINAL.has(job.stage)) return job;
    await sleep(1000);
  }
}

// WS /v1/jobs/{id}/events?access_token=…: the job as it stands, then every stage change; the last event
// (stage done or failed) carries the whole job, with presigned `files`. Browsers cannot set headers on a
// WebSocket, hence the token in the query. Resolves with the finished job; falls back to polling GET /v1/jobs/{id}
// if the socket closes early (close code 4401: token expired, 4503: a dependency is down).
export function followJob(jobId, onEvent) {
  return new Promise((resolve, reject) => {
    const url = apiUrl(`v1/jobs/${encodeURIComponent(jobId)}/events`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("access_token", session.accessToken ?? "");
    let finished = false;
    const fallBack = () => pollJob(jobId, onEvent).then(resolve, reject);
    let socket;
    try {
      socket = new WebSocket(url);
    } catch {
      fallBack();
      return;
    }
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      onEvent(event);
      if (TERMINAL.has(event.stage)) {
        finished = true;
        resolve(event.job);
      }
    });
    socket.addEventListener("close", (closed) => {
      if (finished) return;
      if (closed.code === 4404) {
        reject(new ApiError("That melody is not yours, or it no longer exists.", { status: 404 }));
      } else {
        fallBack();
      }
    });
  });
}
