"""Drives a running empla node with the official A2A Python client (a2a-sdk 1.x).

    python client.py BASE TOKEN STEP [STATE_FILE]

STEP is one of:
  main     card discovery, send, stream, get, list (filters, paging), cancel,
           subscribe and reconnect, push notifications to a local receiver, each
           error code the server can give, the A2A-Version header, auth — on both
           bindings (JSON-RPC and HTTP+JSON); writes a held task's id to STATE_FILE
  after    (after the node restarted) the tasks of `main` are still there, and a
           subscriber to the held task gets it and then its cancellation, in order
  approve  a request whose mail needs approval is input-required, and completed
           once a human approves it (through the node's HTTP API)

Each check prints `ok <what>`; the first failed check raises (non-zero exit), and the
last line is `N passed, 0 failed`. The node runs with `a2a.push_allow_private = true`
and a short push backoff (the Rust test sets them).
"""

import asyncio
import http.server as webhook_server
import json
import sys
import threading
import uuid

import httpx
from google.protobuf import json_format
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import a2a_pb2 as pb
from a2a.utils import errors as a2a_errors

BASE, TOKEN, STEP = sys.argv[1], sys.argv[2], sys.argv[3]
STATE = sys.argv[4] if len(sys.argv) > 4 else None
AGENT = "jordan.lee"
PASSED = 0


def ok(what):
    global PASSED
    PASSED += 1
    print(f"ok {what}", flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    ok(what)


def session(version="1.0", token=TOKEN):
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if version is not None:
        headers["A2A-Version"] = version
    return httpx.AsyncClient(headers=headers, timeout=30)


def message(text, **metadata):
    m = pb.Message(
        message_id=str(uuid.uuid4()), role=pb.ROLE_USER, parts=[pb.Part(text=text)]
    )
    if metadata:
        m.metadata.update(metadata)
    return m


async def client_for(card, binding, streaming=False, token=TOKEN):
    cfg = ClientConfig(
        httpx_client=session(token=token),
        streaming=streaming,
        supported_protocol_bindings=[binding],
    )
    return ClientFactory(cfg).create(card)


async def send(client, text, immediately=False, push=None, **metadata):
    """The last event of a SendMessage (non-streaming: the task)."""
    conf = pb.SendMessageConfiguration(return_immediately=immediately)
    if push is not None:
        conf.task_push_notification_config.CopyFrom(push)
    req = pb.SendMessageRequest(message=message(text, **metadata), configuration=conf)
    events = [e async for e in client.send_message(req)]
    return events


def task_of(event):
    which = event.WhichOneof("payload")
    assert which == "task", f"expected a task, got {which}: {event}"
    return event.task


def artifact_text(task):
    return " ".join(p.text for a in task.artifacts for p in a.parts if p.text)


def state(t):
    return pb.TaskState.Name(t.status.state)


class Receiver:
    """A local webhook: records each push (headers and body); the first call fails."""

    def __init__(self):
        self.calls = []
        self.failed_once = False
        outer = self

        class H(webhook_server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not outer.failed_once:
                    outer.failed_once = True
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.calls.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = webhook_server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    async def wait_for(self, pred, secs=20):
        for _ in range(secs * 10):
            if any(pred(body) for _, body in self.calls):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"no push notification matched; got {self.calls}")


async def cards():
    async with session(version=None, token=None) as h:
        desk = await A2ACardResolver(h, BASE).get_agent_card()
        card = await A2ACardResolver(h, f"{BASE}/a2a/{AGENT}").get_agent_card()
        raw = (await h.get(f"{BASE}/a2a/{AGENT}/.well-known/agent-card.json")).json()
        missing = await h.get(f"{BASE}/a2a/nobody.here/.well-known/agent-card.json")
    check(desk.name.endswith("front desk"), "the node's card is the front desk")
    check(
        any(s.id == AGENT for s in desk.skills), "the front desk lists employees as skills"
    )
    check(card.name == "Jordan Lee" and "Sales" in card.description, "an employee's card names them and their role")
    bindings = sorted(i.protocol_binding for i in card.supported_interfaces)
    check(bindings == ["HTTP+JSON", "JSONRPC"], "both bindings are offered")
    check(
        all(i.url == f"{BASE}/a2a/{AGENT}" and i.protocol_version == "1.0" for i in card.supported_interfaces),
        "interface urls are absolute, protocol 1.0",
    )
    check(card.capabilities.streaming and card.capabilities.push_notifications, "streaming and push are declared")
    check(len(card.skills) > 2 and card.skills[0].id == "conversation", "skills come from the role")
    check("bearer" in card.security_schemes and raw["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer", "bearer auth is declared")
    check(missing.status_code == 404, "an unknown agent has no card")
    return desk, card


async def exercise(card, binding, receiver):
    c = await client_for(card, binding)
    s = await client_for(card, binding, streaming=True)
    tag = f"[{binding}]"

    # Send: an employee answers a greeting directly.
    [ev] = await send(c, "Hi Jordan, hope you are well!")
    t = task_of(ev)
    check(state(t) == "TASK_STATE_COMPLETED" and artifact_text(t), f"{tag} SendMessage answers with a completed task and a text artifact")
    check(t.history and t.history[0].parts[0].text.startswith("Hi Jordan"), f"{tag} the message is in the task's history")
    got = await c.get_task(pb.GetTaskRequest(id=t.id))
    check(got.id == t.id and state(got) == "TASK_STATE_COMPLETED" and artifact_text(got) == artifact_text(t), f"{tag} GetTask finds it")
    got = await c.get_task(pb.GetTaskRequest(id=t.id, history_length=0))
    check(len(got.history) == 0, f"{tag} GetTask honours historyLength")

    # Return immediately: the task is stored before the answer.
    [ev] = await send(c, "Hello again", immediately=True)
    t2 = task_of(ev)
    check(state(t2) == "TASK_STATE_SUBMITTED", f"{tag} returnImmediately answers the submitted task")
    got = await c.get_task(pb.GetTaskRequest(id=t2.id))
    check(got.id == t2.id, f"{tag} GetTask finds a task at once")

    # Stream: the task, then its artifact and its end, in order.
    events = await send(s, "Good morning Jordan")
    kinds = [e.WhichOneof("payload") for e in events]
    check(kinds[0] == "task" and "artifact_update" in kinds and kinds[-1] == "status_update", f"{tag} SendStreamingMessage streams task, artifact, status ({kinds})")
    check(pb.TaskState.Name(events[-1].status_update.status.state) == "TASK_STATE_COMPLETED", f"{tag} the stream ends completed")

    # List: filters and paging.
    page = await c.list_tasks(pb.ListTasksRequest(page_size=1))
    check(len(page.tasks) == 1 and page.next_page_token and page.total_size >= 3, f"{tag} ListTasks pages")
    page2 = await c.list_tasks(pb.ListTasksRequest(page_size=1, page_token=page.next_page_token))
    check(len(page2.tasks) == 1 and page2.tasks[0].id != page.tasks[0].id, f"{tag} the next page goes on")
    by_context = await c.list_tasks(pb.ListTasksRequest(context_id=t.context_id))
    check([x.id for x in by_context.tasks] == [t.id], f"{tag} ListTasks filters by context")
    done = await c.list_tasks(pb.ListTasksRequest(status=pb.TASK_STATE_COMPLETED, include_artifacts=True))
    check(all(state(x) == "TASK_STATE_COMPLETED" and x.artifacts for x in done.tasks) and done.tasks, f"{tag} ListTasks filters by state")

    # Errors through the client.
    for bad in ["00000000-0000-7000-8000-000000000000", "not a task id"]:
        try:
            await c.get_task(pb.GetTaskRequest(id=bad))
            raise AssertionError("unknown task found")
        except a2a_errors.TaskNotFoundError:
            ok(f"{tag} GetTask of {bad!r} is TaskNotFoundError")
    try:
        await c.cancel_task(pb.CancelTaskRequest(id=t.id))
        raise AssertionError("a completed task was canceled")
    except a2a_errors.TaskNotCancelableError:
        ok(f"{tag} CancelTask of a completed task is TaskNotCancelableError")

    # A held task: working; push configs; subscribe, reconnect; cancel.
    hook = pb.TaskPushNotificationConfig(
        url=receiver.url, token="tok-123",
        authentication=pb.AuthenticationInfo(scheme="Bearer", credentials="hook-secret"),
    )
    [ev] = await send(c, "[hold] keep this open", immediately=True, push=hook)
    held = task_of(ev)
    for _ in range(50):
        got = await c.get_task(pb.GetTaskRequest(id=held.id))
        if state(got) == "TASK_STATE_WORKING":
            break
        await asyncio.sleep(0.1)
    check(state(got) == "TASK_STATE_WORKING", f"{tag} a task a plan takes up is working")
    made = await c.create_task_push_notification_config(
        pb.TaskPushNotificationConfig(task_id=held.id, id="second", url=receiver.url, token="tok-2")
    )
    check(made.id == "second" and made.task_id == held.id, f"{tag} CreateTaskPushNotificationConfig")
    listed = await c.list_task_push_notification_configs(pb.ListTaskPushNotificationConfigsRequest(task_id=held.id))
    check(len(listed.configs) == 2, f"{tag} ListTaskPushNotificationConfigs")
    first = await c.list_task_push_notification_configs(
        pb.ListTaskPushNotificationConfigsRequest(task_id=held.id, page_size=1)
    )
    rest = await c.list_task_push_notification_configs(
        pb.ListTaskPushNotificationConfigsRequest(task_id=held.id, page_size=1, page_token=first.next_page_token)
    )
    check(
        len(first.configs) == 1 and first.next_page_token and len(rest.configs) == 1
        and not rest.next_page_token and first.configs[0].id != rest.configs[0].id,
        f"{tag} ListTaskPushNotificationConfigs pages",
    )
    one = await c.get_task_push_notification_config(pb.GetTaskPushNotificationConfigRequest(task_id=held.id, id="second"))
    check(one.token == "tok-2", f"{tag} GetTaskPushNotificationConfig")
    await c.delete_task_push_notification_config(pb.DeleteTaskPushNotificationConfigRequest(task_id=held.id, id="second"))
    listed = await c.list_task_push_notification_configs(pb.ListTaskPushNotificationConfigsRequest(task_id=held.id))
    check(len(listed.configs) == 1, f"{tag} DeleteTaskPushNotificationConfig")

    first = s.subscribe(pb.SubscribeToTaskRequest(id=held.id))
    ev = await first.__anext__()
    check(task_of(ev).id == held.id, f"{tag} SubscribeToTask gives the task first")
    await first.aclose()
    again = s.subscribe(pb.SubscribeToTaskRequest(id=held.id))
    ev = await again.__anext__()
    check(state(task_of(ev)) == "TASK_STATE_WORKING", f"{tag} a reconnecting subscriber gets the task again")
    canceled = await c.cancel_task(pb.CancelTaskRequest(id=held.id))
    check(state(canceled) == "TASK_STATE_CANCELED", f"{tag} CancelTask cancels a working task")
    rest = [e async for e in again]
    check(rest and pb.TaskState.Name(rest[-1].status_update.status.state) == "TASK_STATE_CANCELED", f"{tag} the subscriber gets the cancellation, then the stream ends")
    await receiver.wait_for(lambda b: b.get("statusUpdate", {}).get("taskId") == held.id and b["statusUpdate"]["status"]["state"] == "TASK_STATE_CANCELED")
    headers = [h for h, b in receiver.calls if b.get("statusUpdate", {}).get("taskId") == held.id]
    check(all(h.get("a2a-notification-token") == "tok-123" and h.get("authorization") == "Bearer hook-secret" for h in headers), f"{tag} the webhook is called with its token and credentials")
    try:
        async for _ in s.subscribe(pb.SubscribeToTaskRequest(id=held.id)):
            pass
        raise AssertionError("subscribed to an ended task")
    except a2a_errors.UnsupportedOperationError:
        ok(f"{tag} SubscribeToTask of an ended task is UnsupportedOperationError")
    try:
        m = message("x")
        m.parts[0].media_type = "image/png"
        [e async for e in c.send_message(pb.SendMessageRequest(message=m))]
        raise AssertionError("an image was taken")
    except a2a_errors.ContentTypeNotSupportedError:
        ok(f"{tag} a part of a media type not taken is ContentTypeNotSupportedError")
    card2 = await c.get_extended_agent_card(pb.GetExtendedAgentCardRequest())
    check(card2.name == "Jordan Lee", f"{tag} GetExtendedAgentCard")
    return held.id


async def raw_protocol():
    """Error codes, ErrorInfo, HTTP statuses, the version header and auth, on the wire."""
    url = f"{BASE}/a2a/{AGENT}"

    def rpc(method, params, id_=1):
        return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}

    def info(err):
        return next(d for d in err["data"] if d["@type"].endswith("google.rpc.ErrorInfo"))

    async with session() as h:
        cases = [
            (rpc("GetTask", {"id": "nope"}), -32001, "TASK_NOT_FOUND"),
            (rpc("NoSuchMethod", {}), -32601, None),
            (rpc("ListTasks", {"pageSize": 1000}), -32602, None),
        ]
        for body, code, reason in cases:
            r = await h.post(url, json=body)
            err = r.json()["error"]
            check(r.status_code == 200 and err["code"] == code, f"JSON-RPC {body['method']} gives {code}")
            if reason:
                i = info(err)
                check(i["reason"] == reason and i["domain"] == "a2a-protocol.org", f"error.data holds google.rpc.ErrorInfo {reason}")
        r = await h.post(url, content=b"{not json", headers={"Content-Type": "application/json"})
        check(r.json()["error"]["code"] == -32700, "JSON-RPC parse error is -32700")
        r = await h.get(f"{url}/tasks/nope")
        check(r.status_code == 404 and r.json()["error"]["details"][0]["reason"] == "TASK_NOT_FOUND", "HTTP+JSON unknown task is 404 with ErrorInfo")
        r = await h.get(f"{url}/tasks", params={"pageSize": 1})
        check(r.status_code == 200 and len(r.json()["tasks"]) == 1, "HTTP+JSON ListTasks")
    for version in [None, "0.3"]:
        async with session(version=version) as h:
            r = await h.post(url, json=rpc("ListTasks", {}))
            err = r.json()["error"]
            check(err["code"] == -32009 and info(err)["reason"] == "VERSION_NOT_SUPPORTED", f"JSON-RPC with A2A-Version {version} is VersionNotSupportedError")
            r = await h.get(f"{url}/tasks")
            check(r.status_code == 400 and r.json()["error"]["details"][0]["reason"] == "VERSION_NOT_SUPPORTED", f"HTTP+JSON with A2A-Version {version} is 400 VersionNotSupported")
    for token in [None, "wrong-token-0123456789"]:
        async with session(token=token) as h:
            r = await h.post(url, json=rpc("ListTasks", {}))
            check(r.status_code == 401 and "result" not in r.json() and r.headers.get("www-authenticate", "").startswith("Bearer"), f"JSON-RPC without a valid token is 401, no data ({token})")
            r = await h.get(f"{url}/tasks")
            check(r.status_code == 401 and "tasks" not in r.json(), f"HTTP+JSON without a valid token is 401, no data ({token})")


async def front_desk(desk):
    c = await client_for(desk, "JSONRPC")
    [ev] = await send(c, "Hello there", employee=AGENT)
    t = task_of(ev)
    check(state(t) == "TASK_STATE_COMPLETED" and t.metadata["employee"] == AGENT, "the front desk routes by metadata.employee")
    [ev] = await send(c, "Hi Jordan Lee, quick hello")
    check(task_of(ev).metadata["employee"] == AGENT, "the front desk routes by a name in the words")
    [ev] = await send(c, "Good morning, a question for your Customer Success Manager")
    check(task_of(ev).metadata["employee"] == "sam.rivera", "the front desk routes by a skill (the job title) in the words")
    try:
        await send(c, "zzz qqq")
        raise AssertionError("an unroutable message was taken")
    except a2a_errors.InvalidParamsError:
        ok("the front desk says when it cannot tell whom a message is for")
    listed = await c.list_tasks(pb.ListTasksRequest())
    check(any(x.id == t.id for x in listed.tasks), "the front desk lists the tasks it routed")


async def main_step():
    desk, card = await cards()
    receiver = Receiver()
    held = []
    for binding in ["JSONRPC", "HTTP+JSON"]:
        held.append(await exercise(card, binding, receiver))
    await document_as_file(card)
    check(receiver.failed_once, "a failed push was retried and delivered")
    await raw_protocol()
    await front_desk(desk)
    # A task held open for the restart step.
    c = await client_for(card, "JSONRPC")
    [ev] = await send(c, "[hold] across a restart", immediately=True)
    with open(STATE, "w") as f:
        json.dump({"held": task_of(ev).id, "canceled": held}, f)


async def after_step():
    with open(STATE) as f:
        s = json.load(f)
    async with session() as h:
        card = await A2ACardResolver(h, f"{BASE}/a2a/{AGENT}").get_agent_card()
    c = await client_for(card, "HTTP+JSON")
    sub = await client_for(card, "JSONRPC", streaming=True)
    for tid in s["canceled"]:
        t = await c.get_task(pb.GetTaskRequest(id=tid))
        check(state(t) == "TASK_STATE_CANCELED", "a canceled task survived the restart")
    stream = sub.subscribe(pb.SubscribeToTaskRequest(id=s["held"]))
    ev = await stream.__anext__()
    check(state(task_of(ev)) == "TASK_STATE_WORKING", "after a restart a subscriber gets the held task")
    await c.cancel_task(pb.CancelTaskRequest(id=s["held"]))
    rest = [e async for e in stream]
    check(pb.TaskState.Name(rest[-1].status_update.status.state) == "TASK_STATE_CANCELED", "and then its later updates, in order")
    # Every held task was canceled: the employee dropped the intentions working on them.
    async with session() as h:
        for _ in range(100):
            status = (await h.get(f"{BASE}/api/v1/employees/{AGENT}/status")).json()
            plans = [i["plan"] for i in status.get("intentions", [])]
            if "hold_for_the_a2a_test" not in plans:
                break
            await asyncio.sleep(0.1)
    check("hold_for_the_a2a_test" not in plans, "canceling a task drops the intention working on it")


async def approve_step():
    async with session() as h:
        card = await A2ACardResolver(h, f"{BASE}/a2a/{AGENT}").get_agent_card()
    c = await client_for(card, "JSONRPC")
    [ev] = await send(c, "[approve] send the quote")
    t = task_of(ev)
    check(state(t) == "TASK_STATE_INPUT_REQUIRED", "a task waiting for a human's approval is input-required")
    async with session() as h:
        pending = (await h.get(f"{BASE}/api/v1/approvals", params={"employee": AGENT})).json()
        items = pending.get("items", pending) if isinstance(pending, dict) else pending
        ids = [
            a["id"] for a in items
            if a.get("status") == "pending" and a["action"].get("plan") == "approve_for_the_a2a_test"
        ]
        check(ids, "the approval is queued")
        for i in ids:
            r = await h.post(f"{BASE}/api/v1/approvals/{i}/approve", json={})
            check(r.status_code < 300, "a human approves it")
    for _ in range(100):
        t = await c.get_task(pb.GetTaskRequest(id=t.id))
        if state(t) == "TASK_STATE_COMPLETED":
            break
        await asyncio.sleep(0.1)
    check(state(t) == "TASK_STATE_COMPLETED", "approved and done, the task is completed")
    data = [
        json_format.MessageToDict(p.data)
        for a in t.artifacts for p in a.parts if p.HasField("data")
    ]
    check(
        any("dana@customer.test" in json.dumps(d) for d in data),
        f"what the plan's last action gave (the mail sent) is a data artifact ({data})",
    )


async def document_as_file(card):
    """A request a plan answers with a document: the PDF comes back as a file artifact."""
    c = await client_for(card, "JSONRPC")
    [ev] = await send(c, "[report] my status report for the week, please")
    t = task_of(ev)
    for _ in range(100):
        if state(t) == "TASK_STATE_COMPLETED":
            break
        await asyncio.sleep(0.1)
        t = await c.get_task(pb.GetTaskRequest(id=t.id))
    check(state(t) == "TASK_STATE_COMPLETED", "a document request is completed")
    files = [p for a in t.artifacts for p in a.parts if p.HasField("raw")]
    check(
        len(files) == 1 and files[0].media_type == "application/pdf"
        and files[0].filename.endswith(".pdf") and files[0].raw.startswith(b"%PDF"),
        f"the document written is a PDF file artifact ({[(p.filename, p.media_type) for p in files]})",
    )


async def main():
    await {"main": main_step, "after": after_step, "approve": approve_step}[STEP]()
    print(f"{PASSED} passed, 0 failed", flush=True)


asyncio.run(main())
