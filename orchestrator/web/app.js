// The try-it page: wires the form controls to the API calls in api.js and draws the answers.

import {
  ApiError,
  findMood,
  followJob,
  giveFeedback,
  makeMelody,
  moodHistory,
  moodSummary,
  recommend,
  retryJob,
  session,
  signIn,
  signUp,
} from "./api.js";
import { drawHistory, drawMoodPlane, signed } from "./charts.js";
import { PhotoPicker } from "./photo.js";

const $ = (id) => document.getElementById(id);

// A message in a section's aria-live region: screen readers read it, everyone sees it.
function say(element, text, kind = "info") {
  element.textContent = text;
  element.dataset.kind = text ? kind : "";
}

function describe(error) {
  if (error instanceof ApiError) return error.message;
  console.error(error);
  return "Something went wrong on this page. Please reload it and try again.";
}

// Runs `work` once at a time per button. aria-disabled (not disabled) keeps the keyboard focus on the button.
async function busy(button, work) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } finally {
    button.removeAttribute("aria-disabled");
    button.removeAttribute("aria-busy");
  }
}

const percent = (value) => `${Math.round(value * 100)}%`;

// -- 1 and 2: the mood --------------------------------------------------------------------------------------------
const moodMessage = $("mood-message");
const photo = new PhotoPicker({
  video: $("camera-video"), startButton: $("camera-start"), snapButton: $("camera-snap"),
  stopButton: $("camera-stop"), fileInput: $("photo-file"), clearButton: $("photo-clear"),
  chosen: $("photo-chosen"), figure: $("photo-figure"), image: $("photo-preview"), boxes: $("face-boxes"),
  faceList: $("face-list"),
}, (text, kind) => say(moodMessage, text, kind));

let currentMood = null; // the fused mood shown: {label, valence, arousal, confidence}

function describePart(name, mood) {
  return `${name}: ${mood.label} (valence ${signed(mood.valence)}, arousal ${signed(mood.arousal)}, ` +
    `${percent(mood.confidence)} sure)`;
}

function showMood(result) {
  const box = $("mood-result");
  const mood = result.mood;
  currentMood = mood;
  box.dataset.eventId = result.event_id;
  if (!mood) {
    box.hidden = true;
    box.dataset.state = "none";
    for (const key of ["label", "valence", "arousal", "confidence"]) delete box.dataset[key];
    $("mood-empty").hidden = false;
    $("mood-empty").textContent = "No mood this time: see the message under “Find my mood”.";
    return;
  }
  // The exact numbers from the API in data-* attributes; rounded ones on screen.
  Object.assign(box.dataset, {
    state: "done", label: mood.label, valence: String(mood.valence), arousal: String(mood.arousal),
    confidence: String(mood.confidence),
  });
  $("mood-label").textContent = mood.label;
  $("mood-valence").textContent = signed(mood.valence);
  $("mood-arousal").textContent = signed(mood.arousal);
  $("mood-confidence").textContent = percent(mood.confidence);
  const parts = [];
  const items = [];
  if (result.face?.mood) {
    parts.push({ name: "face", mood: result.face.mood });
    items.push(describePart("Photo", result.face.mood));
  }
  if (result.text_mood) {
    parts.push({ name: "text", mood: result.text_mood });
    items.push(describePart("Words", result.text_mood));
  }
  $("mood-parts").replaceChildren(...items.map((text) => Object.assign(document.createElement("li"), {
    textContent: text })));
  let explanation = result.fusion ? `Fused by confidence: ${result.fusion.explanation}.` : "";
  if (result.fusion?.disagreement) {
    explanation += " Your photo and your words disagree, so the mood in between hides a conflict.";
  }
  for (const [part, why] of Object.entries(result.missing ?? {})) {
    explanation += ` The ${part === "face" ? "photo" : "words"} could not be read right now (${why}); ` +
      "the mood comes from the rest.";
  }
  $("mood-explanation").textContent = explanation.trim();
  drawMoodPlane($("va-plane"), mood, parts);
  $("mood-empty").hidden = true;
  box.hidden = false;
}

function moodNotice(result) {
  const noFace = result.face && result.face.faces.length === 0;
  if (noFace && result.mood) {
    return ["No face was found in the photo, so your mood comes from your words alone.", "warning"];
  }
  if (noFace) {
    return ["No face was found in the photo. Try a clear, well-lit photo of a face looking at the camera, " +
      "or describe how you feel in words.", "error"];
  }
  if (!result.mood) {
    return [`We could not tell a mood this time${result.reason ? `: ${result.reason}` : ""}. ` +
      "Try other words or a photo.", "error"];
  }
  const faces = result.face ? result.face.faces.length : 0;
  const found = faces ? ` (${faces} face${faces === 1 ? "" : "s"} found)` : "";
  return [`Your mood: ${result.mood.label}${found}.`, "success"];
}

$("mood-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const button = $("find-mood");
  busy(button, async () => {
    const text = $("feeling-text").value.trim();
    if (!photo.blob && !text) {
      say(moodMessage, "Add a photo or a few words about how you feel first.", "error");
      return;
    }
    say(moodMessage, "Finding your mood…");
    let result;
    try {
      result = await findMood({ image: photo.blob, imageName: photo.name, text: text || undefined });
    } catch (error) {
      say(moodMessage, describe(error), "error");
      return;
    }
    if (result.face && photo.blob) await photo.showFaces(result.face.faces);
    else photo.clearFaces();
    showMood(result);
    say(moodMessage, ...moodNotice(result));
    if (result.mood) loadRecommendations(result.mood);
    else clearRecommendations();
    if (session.signedIn) loadHistory();
  });
});

// -- 3: recommendations -------------------------------------------------------------------------------------------
const tracksMessage = $("tracks-message");
let shownMood = null; // the mood the tracks were ranked for, to rank again after feedback

function clearRecommendations() {
  $("track-list").replaceChildren();
  $("tracks-intro").hidden = true;
  $("tracks-empty").hidden = false;
  say(tracksMessage, "");
}

// One chip of a track's "why": the mood the model places it in, each feature word, what feedback did.
function whyChip(kind, text, title) {
  const chip = document.createElement("li");
  chip.className = `why why-${kind}`;
  chip.dataset.feature = kind;
  chip.textContent = text;
  chip.title = title;
  return chip;
}

function whyChips(track) {
  const why = track.why;
  const chips = [whyChip("mood", `${why.mood} ${percent(track.moods[why.mood])}`,
    `The track-mood model puts this track among ${why.mood} tracks (${percent(track.moods[why.mood])} likely)`)];
  for (const word of why.features) chips.push(whyChip("word", word, `What placed it there: ${why.summary}`));
  if (why.unknown.length) chips.push(whyChip("unknown", `unknown: ${why.unknown.join(", ")}`,
    "The catalog does not have these features for this track; they were left out, not guessed"));
  if (why.feedback) chips.push(whyChip("feedback", why.feedback, "Your 👍/👎 moved this track"));
  return chips;
}

function feedbackButtons(track) {
  const group = document.createElement("span");
  group.className = "feedback";
  for (const [verdict, label] of [["like", "👍"], ["dislike", "👎"]]) {
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
    button.dataset.verdict = verdict;
    button.setAttribute("aria-label", `${verdict === "like" ? "More" : "Less"} like ${track.name}`);
    button.addEventListener("click", async () => {
      try {
        await giveFeedback(track.track_id, verdict);
      } catch (error) {
        say(tracksMessage, describe(error), "error");
        return;
      }
      if (shownMood) await loadRecommendations(shownMood);
    });
    group.append(button);
  }
  return group;
}

async function loadRecommendations(mood) {
  shownMood = mood;
  clearRecommendations();
  say(tracksMessage, "Finding tracks for this mood…");
  let answer;
  try {
    answer = await recommend({ valence: mood.valence, arousal: mood.arousal }, 8);
  } catch (error) {
    say(tracksMessage, describe(error), "error");
    return;
  }
  const items = answer.tracks.map((track) => {
    const item = document.createElement("li");
    item.className = "track";
    item.dataset.trackId = track.track_id;
    item.dataset.fit = String(track.fit);
    const title = document.createElement("p");
    title.className = "track-title";
    title.append(Object.assign(document.createElement("strong"), { textContent: track.name }),
      ` by ${track.artist}`);
    const meta = document.createElement("span");
    meta.className = "hint";
    meta.textContent = ` · fits ${percent(track.fit)}${track.in_library ? " · in your library" : ""}`;
    title.append(meta);
    if (session.signedIn) title.append(" ", feedbackButtons(track));
    const why = document.createElement("ul");
    why.className = "why-list";
    why.setAttribute("aria-label", `Why ${track.name} fits: ${track.why.summary}`);
    why.append(...whyChips(track));
    item.append(title, why);
    return item;
  });
  $("track-list").replaceChildren(...items);
  $("tracks-empty").hidden = items.length > 0;
  $("tracks-intro").hidden = items.length === 0;
  if (items.length) say(tracksMessage, `${items.length} tracks, best fit first.`, "success");
  else say(tracksMessage, "No tracks to recommend yet.", "warning");
}

// -- 4: account ---------------------------------------------------------------------------------------------------
const accountMessage = $("account-message");

function showSignedIn(moveFocus = false) {
  const signedIn = session.signedIn;
  $("account-form").hidden = signedIn;
  $("signed-in").hidden = !signedIn;
  $("account-who").textContent = session.email ?? "";
  if (moveFocus) (signedIn ? $("sign-out") : $("account-email")).focus();
  if (signedIn) loadHistory();
  else showHistorySignedOut();
}

function credentials() {
  const email = $("account-email").value.trim();
  const password = $("account-password").value;
  if (!email || !password) {
    say(accountMessage, "Enter your email and a password first.", "error");
    (email ? $("account-password") : $("account-email")).focus();
    return null;
  }
  return { email, password };
}

$("account-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy($("sign-in"), async () => {
    const given = credentials();
    if (!given) return;
    say(accountMessage, "Signing in…");
    try {
      await signIn(given.email, given.password);
    } catch (error) {
      say(accountMessage, describe(error), "error");
      return;
    }
    $("account-password").value = "";
    say(accountMessage, `Signed in as ${given.email}.`, "success");
    showSignedIn(true);
  });
});

$("sign-up").addEventListener("click", () => {
  busy($("sign-up"), async () => {
    const given = credentials();
    if (!given) return;
    say(accountMessage, "Creating your account…");
    try {
      await signUp(given.email, given.password);
      await signIn(given.email, given.password);
    } catch (error) {
      say(accountMessage, describe(error), "error");
      return;
    }
    $("account-password").value = "";
    say(accountMessage, `Account created. Signed in as ${given.email}.`, "success");
    showSignedIn(true);
  });
});

$("sign-out").addEventListener("click", () => {
  session.clear();
  say(accountMessage, "Signed out.");
  showSignedIn(true);
});

// -- 5: melody ----------------------------------------------------------------------------------------------------
const melodyMessage = $("melody-message");
const STAGES = {
  queued: "waiting for a worker",
  generating: "composing the melody",
  rendering: "arranging the parts and rendering the audio",
  uploading: "uploading the files",
  done: "done",
  failed: "failed",
};
let lastJobId = null;

function showProgress(event) {
  const stage = $("melody-stage");
  if (stage.dataset.stage !== event.stage) {
    stage.dataset.stage = event.stage;
    stage.textContent = STAGES[event.stage] ?? event.stage;
    if (event.stage !== "done" && event.stage !== "failed") say(melodyMessage, `Melody: ${stage.textContent}…`);
  }
  $("melody-progress").value = event.progress ?? 0;
  $("melody-progress").textContent = percent(event.progress ?? 0);
}

function showMelody(job) {
  const files = job.files ?? {};
  const audio = $("melody-audio");
  // OGG Vorbis is smaller; browsers that cannot play it get the WAV.
  const ogg = files.ogg && audio.canPlayType('audio/ogg; codecs="vorbis"');
  audio.src = ogg ? files.ogg : files.wav;
  for (const kind of ["midi", "wav", "ogg"]) {
    const link = $(`download-${kind}`);
    link.href = files[kind] ?? "";
    link.hidden = !files[kind];
  }
  showParts(files, job.result?.parts ?? []);
  const result = job.result ?? {};
  const key = result.key ? `${result.key.tonic} ${result.key.mode}` : "";
  const tempo = job.parameters?.tempo_bpm ? `${Math.round(job.parameters.tempo_bpm)} bpm` : "";
  const seconds = result.seconds ? `${result.seconds.toFixed(1)} s` : "";
  // (parameters.seed is a 63-bit integer: JSON.parse rounds it to a double, so it is not shown here.)
  $("melody-summary").textContent = [key, tempo, seconds].filter(Boolean).join(" · ") +
    ". The download links work for an hour.";
  $("melody-result").hidden = false;
}

// Each part's stem in its own <audio>, started together; a ticked box is a part heard, an unticked one muted.
function showParts(files, parts) {
  const toggles = $("melody-part-toggles");
  toggles.replaceChildren();
  const stems = parts.filter((part) => files[`stem_${part}`]);
  $("melody-parts").hidden = stems.length < 2;
  for (const part of stems) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    const player = document.createElement("audio");
    box.type = "checkbox";
    box.checked = true;
    box.id = `part-${part}`;
    player.id = `stem-${part}`;
    player.preload = "auto";
    player.src = files[`stem_${part}`];
    box.addEventListener("change", () => { player.muted = !box.checked; });
    label.append(box, ` ${part}`, player);
    toggles.append(label);
  }
}

$("play-parts").addEventListener("click", () => {
  $("melody-audio").pause();
  for (const player of $("melody-part-toggles").querySelectorAll("audio")) {
    player.currentTime = 0;
    player.play().catch(() => say(melodyMessage, "The browser would not play the parts.", "error"));
  }
});

async function runMelody(start) {
  $("melody-result").hidden = true;
  $("melody-retry").hidden = true;
  const job = await start();
  lastJobId = job.id;
  $("melody-job").hidden = false;
  $("melody-stage").dataset.stage = "";
  showProgress(job);
  const finished = await followJob(job.id, showProgress);
  if (finished?.state === "succeeded") {
    showMelody(finished);
    say(melodyMessage, "Your melody is ready: press play, or download it.", "success");
  } else {
    $("melody-retry").hidden = false;
    say(melodyMessage, `The melody could not be made: ${finished?.error ?? "unknown error"}. ` +
      "You can try again.", "error");
  }
}

$("melody-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy($("make-melody"), async () => {
    if (!currentMood) {
      say(melodyMessage, "Find your mood first (step 1): the melody follows it.", "error");
      return;
    }
    if (!session.signedIn) {
      say(melodyMessage, "Sign in or create an account first (step 4): melodies are kept in your account.",
        "error");
      $("account-email").focus();
      return;
    }
    const bars = Number($("melody-bars").value);
    if (!Number.isInteger(bars) || bars < 1 || bars > 64) {
      say(melodyMessage, "The length must be a whole number of bars from 1 to 64.", "error");
      $("melody-bars").focus();
      return;
    }
    say(melodyMessage, "Asking for a melody…");
    const mood = { valence: currentMood.valence, arousal: currentMood.arousal };
    try {
      await runMelody(() => makeMelody(mood, bars, Number($("melody-instrument").value)));
    } catch (error) {
      say(melodyMessage, describe(error), "error");
    }
  });
});

$("melody-retry").addEventListener("click", () => {
  busy($("melody-retry"), async () => {
    try {
      await runMelody(() => retryJob(lastJobId));
    } catch (error) {
      say(melodyMessage, describe(error), "error");
    }
  });
});

// -- 6: history ---------------------------------------------------------------------------------------------------
const historyMessage = $("history-message");

function showHistorySignedOut() {
  $("history-result").hidden = true;
  $("history-empty").hidden = false;
  say(historyMessage, "");
}

async function loadHistory() {
  let summary;
  let latest;
  try {
    [summary, latest] = await Promise.all([moodSummary("7d"), moodHistory(5)]);
  } catch (error) {
    say(historyMessage, describe(error), "error");
    if (!session.signedIn) showSignedIn();
    return;
  }
  drawHistory($("history-chart"), summary, 7);
  const counts = Object.entries(summary.counts).map(([label, count]) => `${label} ×${count}`).join(", ");
  $("history-counts").textContent = summary.events
    ? `${summary.events} mood${summary.events === 1 ? "" : "s"} in the last 7 days: ${counts}.`
    : "No moods in the last 7 days yet: find your mood while signed in.";
  const time = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  $("history-list").replaceChildren(...latest.items.map((item) => {
    const entry = document.createElement("li");
    const when = time.format(new Date(item.created_at));
    entry.textContent = item.mood
      ? `${when}: ${item.mood.label} (valence ${signed(item.mood.valence)}, arousal ${signed(item.mood.arousal)})`
      : `${when}: no mood${item.faces?.length === 0 ? " (no face found)" : ""}`;
    return entry;
  }));
  $("history-empty").hidden = true;
  $("history-result").hidden = false;
  say(historyMessage, "");
}

// -- start --------------------------------------------------------------------------------------------------------
if (!PhotoPicker.cameraAvailable()) {
  $("camera-controls").hidden = true;
  $("camera-note").hidden = false;
  $("camera-note").textContent = "No camera here: this browser does not let the page use one (it needs HTTPS " +
    "or localhost). Upload a photo instead.";
}
session.load();
showSignedIn();
