"""SliceApi's peer in the seeds' own framework: the same three task routes (GET by id, the list's first page, create) in
FastAPI + asyncpg under uvicorn, from Debian's packages (python3-fastapi, python3-uvicorn, python3-asyncpg, python3-jwt),
on the same database and rows as SliceApi: Marten's task table (the JSON document and its duplicated columns), and on
create the task's history stream and created event in one transaction, as SliceApi writes them.

Each request's bearer access token is checked as SliceApi checks its own (HS256 with the same key, issuer, audience and
expiry, PyJWT) and each body is validated by a pydantic model with SliceApi's rules (title 1 to 200 characters after
trimming, description at most 4,000, an RFC 3339 deadline with an offset, status todo, in_progress or done); a failure is
FastAPI's 422. Admins see every task (the benchmark reads as an admin), a user their own.

Settings (environment): PEER_POSTGRES_HOST (a Unix socket directory), PEER_POSTGRES_DB, PEER_POSTGRES_USER, PEER_JWT_KEY
(SliceApi's Jwt__SigningKey, used as its UTF-8 bytes), PEER_JWT_ISSUER and PEER_JWT_AUDIENCE (default sliceapi).
Run by bench/run.sh: uvicorn app:app --workers 2 --loop uvloop --http httptools --no-access-log.
"""
import base64
import datetime
import enum
import json
import os
import struct
import uuid
from typing import Optional

import asyncpg
import jwt
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, validator

KEY = os.environ["PEER_JWT_KEY"].encode()
ISSUER = os.environ.get("PEER_JWT_ISSUER", "sliceapi")
AUDIENCE = os.environ.get("PEER_JWT_AUDIENCE", "sliceapi")
WIRE_STATUS = {"Todo": "todo", "InProgress": "in_progress", "Done": "done"}
STORED_STATUS = {v: k for k, v in WIRE_STATUS.items()}

app = FastAPI()
pool: Optional[asyncpg.Pool] = None


@app.on_event("startup")
async def open_pool():
    global pool
    pool = await asyncpg.create_pool(host=os.environ["PEER_POSTGRES_HOST"], database=os.environ["PEER_POSTGRES_DB"],
                                     user=os.environ["PEER_POSTGRES_USER"], min_size=4, max_size=16)


class Caller(BaseModel):
    user_id: uuid.UUID
    role: str


def caller(request: Request) -> Caller:
    """The access token's subject and role; 401 when it is missing, malformed, badly signed, expired or not for us."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise HTTPException(401, "Send a bearer access token.", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = jwt.decode(header[7:].strip(), KEY, algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE,
                            options={"require": ["exp", "sub"]})
        return Caller(user_id=uuid.UUID(claims["sub"]), role=claims.get("role", "guest"))
    except (jwt.InvalidTokenError, ValueError) as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer error=\"invalid_token\""})


def wire(document: str) -> dict:
    """The stored task document as SliceApi's API shows it (TaskResponse)."""
    t = json.loads(document)
    return {"id": t["id"], "title": t["title"], "description": t.get("description"), "status": WIRE_STATUS[t["status"]],
            "dueAt": t.get("dueAt"), "ownerId": t["ownerId"], "assigneeId": t.get("assigneeId"),
            "createdAt": t["createdAt"], "updatedAt": t["updatedAt"]}


@app.get("/api/v1/tasks/{task_id}")
async def get_task(task_id: uuid.UUID, who: Caller = Depends(caller)):
    sql = "SELECT data FROM mt_doc_taskitem WHERE id = $1"
    args = [task_id]
    if who.role != "admin":
        sql += " AND (owner_id = $2 OR assignee_id = $2)"
        args.append(who.user_id)
    row = await pool.fetchrow(sql, *args)
    if row is None:
        raise HTTPException(404, "No task with this id.")
    return JSONResponse(wire(row["data"]))


@app.get("/api/v1/tasks")
async def list_tasks(limit: int = Query(20, ge=1, le=100), who: Caller = Depends(caller)):
    if who.role == "admin":
        rows = await pool.fetch("SELECT data FROM mt_doc_taskitem ORDER BY created_at DESC, id DESC LIMIT $1", limit + 1)
    else:
        rows = await pool.fetch("SELECT data FROM mt_doc_taskitem WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                                who.user_id, limit + 1)
    items = [wire(r["data"]) for r in rows]
    next_cursor = None
    if len(items) > limit:
        items.pop()
        last = items[-1]
        created = datetime.datetime.fromisoformat(last["createdAt"])
        ticks = int((created - datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds() * 10_000_000)
        raw = bytes([1, 1]) + uuid.UUID(last["id"]).bytes + struct.pack(">q", ticks)
        next_cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return JSONResponse({"items": items, "nextCursor": next_cursor})


class Status(str, enum.Enum):
    todo = "todo"
    in_progress = "in_progress"
    done = "done"


class CreateTask(BaseModel):
    title: str = Field(..., max_length=1000)
    description: Optional[str] = Field(None, max_length=4000)
    dueAt: Optional[datetime.datetime] = None
    status: Status = Status.todo

    @validator("title")
    def title_length(cls, value: str) -> str:
        value = value.strip()
        if not 1 <= len(value) <= 200:
            raise ValueError("title must be 1 to 200 characters after trimming")
        return value

    @validator("dueAt")
    def with_offset(cls, value):
        if value is not None and value.tzinfo is None:
            raise ValueError("dueAt needs an offset, e.g. 2026-12-01T17:00:00Z")
        return value


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@app.post("/api/v1/tasks", status_code=201)
async def create_task(body: CreateTask, request: Request, who: Caller = Depends(caller)):
    if who.role not in ("admin", "user"):
        raise HTTPException(403, "Guests may not create tasks.")
    now = datetime.datetime.now(datetime.timezone.utc)
    task_id = uuid.uuid4()
    due = body.dueAt.astimezone(datetime.timezone.utc) if body.dueAt else None
    stored = {"id": str(task_id), "ownerId": str(who.user_id), "assigneeId": None, "title": body.title, "description": body.description,
              "status": STORED_STATUS[body.status.value], "dueAt": iso(due) if due else None, "createdAt": iso(now), "updatedAt": iso(now),
              "version": 1}
    event = {"task": {k: stored[k] for k in ("id", "title", "description", "status", "dueAt", "ownerId", "assigneeId", "createdAt", "updatedAt")},
             "changes": [], "type": "Created"}
    async with pool.acquire() as connection:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO mt_doc_taskitem (id, data, mt_version, mt_dotnet_type, owner_id, assignee_id, title, description, due_sort_key, created_at) "
                "VALUES ($1, $2::jsonb, 1, 'SliceApi.Features.Tasks.TaskItem', $3, NULL, $4, $5, $6, $7)",
                task_id, json.dumps(stored), who.user_id, body.title, body.description, due or datetime.datetime.max.replace(tzinfo=datetime.timezone.utc), now)
            await connection.execute("INSERT INTO mt_streams (id, type, version) VALUES ($1, 'task_item', 1)", task_id)
            await connection.execute(
                "INSERT INTO mt_events (seq_id, id, stream_id, version, data, type, timestamp, mt_dotnet_type, correlation_id, headers, user_name) "
                "VALUES (nextval('mt_events_sequence'), $1, $2, 1, $3::jsonb, 'task_created', now(), 'SliceApi.Features.Tasks.TaskCreated, SliceApi', $4, $5::jsonb, $6)",
                uuid.uuid4(), task_id, json.dumps(event), uuid.uuid4().hex, '{"via": "AccessToken"}', str(who.user_id))
    response = {k: stored[k] for k in ("id", "title", "description", "dueAt", "ownerId", "assigneeId", "createdAt", "updatedAt")}
    response["status"] = body.status.value
    return JSONResponse(response, status_code=201, headers={"Location": f"/api/v1/tasks/{task_id}", "ETag": '"1"'})


@app.get("/health/ready")
async def ready():
    return {"status": "ready"}
