from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from orchestrator.accounts.deps import OptionalUser, owner_of
from orchestrator.core.errors import InvalidInputError
from orchestrator.core.settings import Settings
from orchestrator.http.responses import OPTIONAL_AUTH, error_responses, link, links
from orchestrator.moods.events import MoodEvent
from orchestrator.moods.mapping import mood_as_dict
from orchestrator.moods.schemas import (
    FaceMoodResponse,
    FusedMoodResponse,
    MoodEventOut,
    MoodVocabularyOut,
    MoodWordOut,
    TextMoodRequest,
    TextMoodResponse,
)
from orchestrator.moods.vocabulary import VOCABULARY, Group
from orchestrator.wiring import ServicesDep

router = APIRouter(prefix="/v1", tags=["moods"])

# 401: a token that is sent must be valid (and is needed at all on a server that allows no anonymous moods).
TEXT_ERRORS = error_responses(400, 401, 413, 422, 503, descriptions={
    413: "The body, or the text, is longer than its limit (MUSEAIKA_MAX_TEXT_CHARS)"})
IMAGE_ERRORS = error_responses(400, 401, 413, 415, 422, 503, descriptions={
    400: "The upload is empty, or the body cannot be read",
    413: "The upload is larger than MUSEAIKA_MAX_UPLOAD_BYTES, or the image has more pixels than "
         "MUSEAIKA_MAX_IMAGE_PIXELS (a decompression bomb)",
    415: "The upload is not a JPEG, PNG or WebP image"})
# A mood answer leads to its stored event, and to a melody and tracks for that mood.
_MOOD_OF_EVENT = {"mood": {"mood_event_id": "$response.body#/event_id"}}
EVENT_LINKS = links(GetMoodEvent=link("get_mood_event", {"event_id": "$response.body#/event_id"}),
                    MelodyForMood=link("create_melody", request_body=_MOOD_OF_EVENT),
                    TracksForMood=link("recommend", request_body=_MOOD_OF_EVENT))


async def read_upload(upload: UploadFile, settings: Settings) -> bytes:
    # Read one byte past the limit: enough to know the upload is too large without buffering more.
    data = await upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise InvalidInputError(413, f"image is larger than the limit of {settings.max_upload_bytes} bytes")
    return data


@router.get("/moods/vocabulary", response_model=MoodVocabularyOut, responses=error_responses(422, descriptions={
                422: "`group` is not one of circumplex, music, emotion"}),
            operation_id="mood_vocabulary",
            summary="The mood words a mood's `label` accepts, with their valence, arousal, intensity and source")
async def mood_vocabulary(group: Group | None = None) -> MoodVocabularyOut:
    # Public and the same for everyone: what a frontend builds its mood picker from.
    words = [MoodWordOut.model_validate({**vars(word), "synonyms": list(word.synonyms)})
             for word in VOCABULARY if group is None or word.group == group]
    return MoodVocabularyOut(words=words)


@router.post("/moods/face", response_model=FaceMoodResponse, responses={**IMAGE_ERRORS, 200: EVENT_LINKS},
             openapi_extra=OPTIONAL_AUTH, summary="Detect every face in a photo, its emotions, and one overall mood")
async def face_mood(
    services: ServicesDep,
    user: OptionalUser,
    image: Annotated[UploadFile, File(description="JPEG, PNG or WebP photo")],
) -> FaceMoodResponse:
    event, scores = await services.face_mood.analyze(await read_upload(image, services.settings), owner_of(user))
    return FaceMoodResponse.model_validate({
        "event_id": event.id, "faces": scores.faces, "mood": event.mood, "reason": scores.reason,
        "model": scores.model, "created_at": event.created_at,
    })


@router.post("/moods/text", response_model=TextMoodResponse, responses={**TEXT_ERRORS, 200: EVENT_LINKS},
             summary="Emotions and mood of a sentence",
             openapi_extra={**OPTIONAL_AUTH, "requestBody": {"content": {"application/json": {
                 "schema": TextMoodRequest.model_json_schema()}}, "required": True}})
async def text_mood(request: Request, services: ServicesDep, user: OptionalUser) -> TextMoodResponse:
    # The body is parsed here rather than by FastAPI so that invalid UTF-8 is a 400, not a 422.
    body = await request.body()
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidInputError(400, f"body is not valid UTF-8 (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise InvalidInputError(400, f"body is not valid JSON: {error.msg}") from error
    try:
        parsed = TextMoodRequest.model_validate(payload)
    except ValidationError as error:
        # The same 422 as a body FastAPI validated: `detail` and each field in `errors`.
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from error
    event, scores = await services.text_mood.analyze(parsed.text, parsed.language, owner_of(user))
    return TextMoodResponse.model_validate({
        "event_id": event.id, "text": event.text, "mood": event.mood, "reason": scores.reason,
        "model": scores.model, "created_at": event.created_at,
    })


@router.post("/moods", response_model=FusedMoodResponse,
             responses={**error_responses(400, 401, 413, 415, 422, 503, descriptions={
                 413: IMAGE_ERRORS[413]["description"] + "; or the text is longer than MUSEAIKA_MAX_TEXT_CHARS",
                 415: IMAGE_ERRORS[415]["description"]}), 200: EVENT_LINKS},
             openapi_extra=OPTIONAL_AUTH, summary="A photo, a text, or both: each part's emotions and one fused mood")
async def fused_mood(
    services: ServicesDep,
    user: OptionalUser,
    image: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP photo")] = None,
    text: Annotated[str | None, Form(description="What the person wrote")] = None,
    language: Annotated[str, Form()] = "en",
) -> FusedMoodResponse:
    data = await read_upload(image, services.settings) if image is not None else None
    result = await services.fused_mood.analyze(data, text, language, owner_of(user))
    face = result.face
    return FusedMoodResponse.model_validate({
        "event_id": result.event.id,
        "face": {"faces": face.faces, "mood": mood_as_dict(face.mood) if face.mood else None} if face else None,
        "text": result.event.text,
        "text_mood": mood_as_dict(result.text.mood) if result.text and result.text.mood else None,
        "mood": result.event.mood,
        "fusion": result.fusion.as_record() if result.fusion else None,
        "missing": result.missing,
        "reason": result.reason,
        "models": result.event.models,
        "created_at": result.event.created_at,
    })


def event_out(event: MoodEvent) -> MoodEventOut:
    return MoodEventOut.model_validate({
        "id": event.id, "source": event.source, "faces": event.faces, "text": event.text, "fusion": event.fusion,
        "mood": event.mood, "models": event.models, "owner_id": event.owner_id, "created_at": event.created_at,
    })


@router.get("/mood-events/{event_id}", response_model=MoodEventOut, responses=error_responses(401, 404, 422, 503),
            operation_id="get_mood_event", openapi_extra=OPTIONAL_AUTH,
            summary="Read back a stored mood event (an owned one only with its owner's token)")
async def get_mood_event(event_id: str, services: ServicesDep, user: OptionalUser) -> MoodEventOut:
    return event_out(await services.mood_events.get_visible(event_id, owner_of(user)))


