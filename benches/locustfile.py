"""The default HTTP journeys (scenarios/voice_assistant.json) as a Locust 2.x FastHttpUser file, for
`make bench`'s journeys comparison: the same weights, steps, bodies and templates, every body read
to its end, no think time (voiceswarm's side runs with --think-scale 0). The phone call journey is
left out on both sides: Locust has no paced audio.
"""
import json
import os
import random

from locust import FastHttpUser, constant, task

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios")
SCENARIO = json.load(open(os.path.join(ROOT, "voice_assistant.json")))
DATA = SCENARIO["data"]
SPEECH = [open(os.path.join(ROOT, path), "rb").read() for path in SCENARIO["audio"]["speech"]]
WAV = {"Content-Type": "audio/wav"}


class Caller(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def new_session(self):
        with self.client.post("/api/v1/sessions", name="session:create", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"status {r.status_code}")
                return None
            return r.json()["session_id"]

    def stream(self, name, path, body):
        # A streamed reply (SSE or WAV): FastHttpUser reads it to its end, as voiceswarm does.
        self.client.post(path, name=name, json=body)


class VoiceConversation(Caller):
    weight = 6

    @task
    def conversation(self):
        session = self.new_session()
        for _ in range(3):
            self.client.post(f"/api/v1/voice?session_id={session}", name="pipeline:voice",
                             data=random.choice(SPEECH), headers=WAV)


class ClientPipeline(Caller):
    weight = 2

    def on_start(self):
        self.session = self.new_session()

    @task
    def pipeline(self):
        with self.client.post("/api/v1/stt", name="stt:transcribe", data=random.choice(SPEECH), headers=WAV,
                              catch_response=True) as r:
            if "transcript" not in r.json():
                r.failure("no /transcript")
        self.stream("llm:complete", "/api/v1/llm/stream",
                    {"session_id": self.session, "message": random.choice(DATA["utterances"])})
        self.stream("tts:synthesize", "/api/v1/tts", {"text": random.choice(DATA["replies"])})


class TextChat(Caller):
    weight = 2

    def on_start(self):
        self.session = self.new_session()

    @task
    def chat(self):
        self.stream("llm:complete", "/api/v1/llm/stream",
                    {"session_id": self.session, "message": random.choice(DATA["utterances"])})


class CompanyLookup(Caller):
    weight = 1

    @task
    def lookup(self):
        with self.client.get(f"/api/v1/company/{random.choice(DATA['company_ids'])}", name="company:lookup",
                             catch_response=True) as r:
            if "name" not in r.json():
                r.failure("no /name")
        with self.client.post("/api/v1/search", name="search:query",
                              json={"query": random.choice(DATA["queries"]), "top_k": 3}, catch_response=True) as r:
            if "results" not in r.json():
                r.failure("no /results")


class Monitoring(Caller):
    weight = 1

    @task
    def health(self):
        with self.client.get("/health", name="health:check", catch_response=True) as r:
            if r.json().get("status") != "ok":
                r.failure("status is not ok")
