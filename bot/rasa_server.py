"""The Rasa server entry point of the product: `rasa` with two measured fixes for Rasa 3.6.

    python -m bot.rasa_server run --enable-api ... (same arguments as `rasa`)

The API token comes from PAYLATER_RASA_TOKEN in the environment and is handed to Rasa in
this process, never on the command line (where `ps` shows it to every user of the machine);
with --enable-api and no token it refuses to start. Files it creates are private (umask 077).

1. Cached validation of action-server responses. Rasa 3.6 calls `jsonschema.validate(result,
   schema)` on every custom action's answer, which re-checks its large events schema against the
   JSON-Schema metaschema each time: about half of Rasa's CPU per message in this product
   (bench.profile). Here the validator is built once per distinct schema; errors are the same
   (`best_match` of `iter_errors`, as jsonschema.validate does).
2. SQLite tracker store in WAL mode with synchronous=NORMAL. Rasa's SQL tracker store commits on
   its event loop, so every fsync stalls every conversation of the process. WAL stays durable
   against a crash of Rasa; the last commits can be lost on power loss. PAYLATER_SQLITE_WAL=0
   turns it off. PostgreSQL is untouched.

Measured (bench.variants, Rasa driven directly): sequential p50 67.5 -> 29.2 ms, 16.7 -> 36.4
messages/s at 20 concurrent conversations.

3. Faster model loading (PAYLATER_FAST_MODEL_LOAD=0 turns it off); it decides how fast a
   crashed Rasa is back under `make run`. (a) To create its weights Rasa 3.6 runs one training
   step on one example through `model.fit`, which traces and optimises the whole training graph
   (CRF entity loss, gradients): ~85% of loading the model here (cProfile). That step runs
   eagerly instead; the trained weights are then loaded over it as before. (b) The prediction
   graph is traced without AutoGraph (half of what was left: converting ~90 functions whose
   control flow depends only on the configuration). Same weights, same operations: predictions
   are identical (tests/shared/test_rasa_server.py compares both loads on the product model).
   Loading the model under the same machine load: 126-150 s -> 12 s. Fine-tuning
   (`rasa train --finetune`) and `run_eagerly` models keep Rasa's own path.

4. The per-message slot upkeep (`client`, `order_id`: bot/slot_upkeep.py) runs inside Rasa after
   its slot extraction instead of as `action_validate_slot_mappings` on the action server
   (`install_slot_upkeep`), and 5. custom action calls carry the last ACTION_EVENT_TURNS user
   turns of events instead of the whole session (`install_lean_action_calls`): both costs grew with
   the session (issue 14, docs/SCALING.md "Long sessions").

6. Flat states (PAYLATER_FLAT_STATES=0 turns 6 and 7 off): Rasa's dialogue states, applied events
   and tracker copies kept up to date message by message instead of replayed from the whole
   session several times per message (bot/flat_states.py, `install_flat_states`); same
   predictions (tests/shared/test_flat_states.py). 7. Rasa's deep copies of what it hands to
   structlog's debug lines are skipped while debug logging is off (`install_debug_only_copies`).
   8. RulePolicy's rule keys parsed once, not per rule and turn of every prediction
   (`install_rule_key_cache`; PAYLATER_RULE_KEY_CACHE=0 turns it off).

Also, for both Rasa and `run actions` (the action server, as `make run` starts it): start-up
checks (bot.startup_checks), the product's log format (PAYLATER_LOG_FORMAT) on Rasa's and
rasa-sdk's handlers, and the request id / conversation id of each message on every log line
(Rasa: from the message metadata the gateway sends; actions: bot/actions/base.py).
"""
from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import sys
import time
from typing import List, Optional


def install_cached_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    if getattr(jsonschema.validate, "_paylater_cached", False):
        return
    original = jsonschema.validate

    @functools.lru_cache(maxsize=32)
    def _validator(schema_key: str):
        schema = json.loads(schema_key)
        cls = validator_for(schema)
        cls.check_schema(schema)  # once per distinct schema, as the original does per call
        return cls(schema)

    def validate(instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return original(instance, schema, cls, *args, **kwargs)
        try:
            key = json.dumps(schema, sort_keys=True)
        except (TypeError, ValueError):
            return original(instance, schema)
        error = best_match(_validator(key).iter_errors(instance))
        if error is not None:
            raise error

    validate._paylater_cached = True
    jsonschema.validate = validate


def install_sqlite_wal() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_connection, _record):  # every engine of this process, SQLite ones only
        if isinstance(dbapi_connection, sqlite3.Connection):
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()


def with_token(args: List[str], environ=os.environ) -> List[str]:
    """`rasa run --enable-api` arguments with the API token from PAYLATER_RASA_TOKEN added."""
    if not args or args[0] != "run" or "--enable-api" not in args:
        return list(args)
    if "--auth-token" in args or any(a.startswith("--auth-token=") for a in args):
        print("warning: --auth-token on the command line is visible to every user (ps); "
              "set PAYLATER_RASA_TOKEN instead", file=sys.stderr)
        return list(args)
    token = environ.get("PAYLATER_RASA_TOKEN")
    if not token:
        raise SystemExit("refusing to enable Rasa's HTTP API without PAYLATER_RASA_TOKEN")
    # one argument, `--auth-token=<token>`: a token_urlsafe token starts with "-" one time in 64, and
    # argparse reads a separate "-..." word as an option ("expected one argument")
    return [*args, f"--auth-token={token}"]


def install_fast_model_load() -> None:
    import tensorflow as tf
    from rasa.utils.tensorflow import models
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    original = models.RasaModel.load.__func__
    if getattr(original, "_paylater", False):
        return

    def load(cls, model_file_name, model_data_example, predict_data_example=None, finetune_mode=False, *args, **kwargs):
        config = kwargs.get("config", {})
        if finetune_mode or config.get(RUN_EAGERLY):
            return original(cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)
        model = cls(*args, **kwargs)
        # one eager training step creates every weight (as Rasa's traced one does) ...
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)), run_eagerly=True)
        model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
        model.run_eagerly = False  # ... predictions use the traced graph, as in Rasa
        model.load_weights(model_file_name)
        if predict_data_example:
            model.run_inference(predict_data_example)
        return model

    load._paylater = True
    models.RasaModel.load = classmethod(load)

    original_predict = models.RasaModel._rasa_predict

    def _rasa_predict(self, batch_in):
        # the prediction graph without AutoGraph: its Python control flow depends only on the
        # model's configuration, so AutoGraph would convert ~90 functions for nothing (a tensor-
        # dependent branch would fail loudly at tracing, never silently)
        if not self._run_eagerly and self._tf_predict_step is None:
            self._tf_predict_step = tf.function(
                self.predict_step, input_signature=self._dynamic_signature(batch_in), autograph=False
            )
        return original_predict(self, batch_in)

    models.RasaModel._rasa_predict = _rasa_predict


def install_slot_upkeep() -> None:
    """The per-message slot upkeep (bot/slot_upkeep.py: `client` from the metadata unless the
    buyer names one, `order_id` normalised) inside Rasa, right after its slot extraction, where
    `action_validate_slot_mappings` would have run on the action server: one HTTP round trip,
    the whole session serialised and a replay of the tracker per message, gone. A model whose
    domain still lists that action keeps calling it (same function, bot/actions/session.py)."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
    from rasa.shared.core.events import SlotSet

    from rasa.shared.core.events import UserUttered

    from bot.slot_upkeep import PROACTIVE_EVENT_SLOT, slot_upkeep

    def _messages_since_proactive(tracker) -> Optional[int]:
        """Buyer messages since the gateway set the proactive context (None: not in the tracker)."""
        n = 0
        for e in reversed(tracker.events):
            if isinstance(e, SlotSet) and e.key == PROACTIVE_EVENT_SLOT:
                return n if e.value else None
            if isinstance(e, UserUttered):
                n += 1
        return None

    original = ActionExtractSlots._execute_validation_action
    if getattr(original, "_paylater", False):
        return

    async def _execute_validation_action(self, extraction_events, output_channel, nlg, tracker, domain):
        events = await original(self, extraction_events, output_channel, nlg, tracker, domain)
        if ACTION_VALIDATE_SLOT_MAPPINGS in domain.user_actions:
            return events  # the action did it
        latest = tracker.latest_message
        extracted = {e.key: e.value for e in events if isinstance(e, SlotSet)}
        proactive = bool(tracker.get_slot(PROACTIVE_EVENT_SLOT))
        changes = slot_upkeep(getattr(latest, "metadata", None), getattr(latest, "text", None),
                              tracker.get_slot("client"), extracted.get("order_id"),
                              proactive_active=proactive,
                              messages_since_proactive=_messages_since_proactive(tracker) if proactive else None)
        kept = [e for e in events if not (isinstance(e, SlotSet) and e.key in changes)]
        return kept + [SlotSet(k, v) for k, v in changes.items()]

    _execute_validation_action._paylater = True
    ActionExtractSlots._execute_validation_action = _execute_validation_action


# Custom actions receive the events since this many user messages back (plus slots, active loop
# and latest message in full, as always). The handoff looks furthest back (bot/actions/handoff.py:
# orders named anywhere recently, for the agent's summary); the others read the latest message,
# the last two turns (trailing misunderstandings: 2 is the threshold), the form's last slot event
# or the proactive context (at most 3 buyer messages old, bot/slot_upkeep.py), so 5 turns cover
# them. The window is what grew the action server's cost with the session (bench/session.py).
ACTION_EVENT_TURNS = 20
ACTION_EVENT_TURNS_BY_ACTION = {"action_handoff": ACTION_EVENT_TURNS}
DEFAULT_ACTION_EVENT_TURNS = 5


def recent_events(events: List, turns: int) -> List:
    """The events from the `turns`-th last user message on (all of them when there are fewer)."""
    from rasa.shared.core.events import UserUttered

    seen = 0
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], UserUttered):
            seen += 1
            if seen == turns:
                return list(events)[i:]
    return list(events)


def action_event_turns(action_name: str) -> int:
    return ACTION_EVENT_TURNS_BY_ACTION.get(action_name, DEFAULT_ACTION_EVENT_TURNS)


def install_lean_action_calls(turns: Optional[int] = None) -> None:
    """A custom action call carries the recent events only, not the whole session: Rasa 3.6 sends
    `tracker.current_state(EventVerbosity.ALL)`, so every action call serialised (and the action
    server parsed) every event of the session — cost growing with its length (bench/session.py).
    Slots, the active loop and the latest message are complete as before."""
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._action_call_format
    if getattr(original, "_paylater", False):
        return

    def _action_call_format(self, tracker, domain):
        events = tracker.events
        window = turns if turns is not None else action_event_turns(self.name())
        if len(events) <= 4 * window:  # short sessions: exactly as Rasa does it
            return original(self, tracker, domain)
        recent = recent_events(events, window)
        saved = tracker.events
        try:
            tracker.events = type(saved)(recent)  # only for the duration of the serialisation
            return original(self, tracker, domain)
        finally:
            tracker.events = saved

    _action_call_format._paylater = True
    RemoteAction._action_call_format = _action_call_format


def install_local_followup_check() -> None:
    """`action_faq_followup` runs after every FAQ answer (data/rules/chitchat.yml) but does
    anything only for a message of two or more question clauses. Rasa asks the same predicate
    (bot/actions/faq.py `has_second_question`) before calling the action server and, when it says
    no, returns the action's answer itself: no events, no messages, as the action server would.
    Saves one action-server round trip (the tracker serialised, sent, parsed) on most FAQ answers."""
    from rasa.core.actions.action import RemoteAction

    from bot.actions.faq import ActionFaqFollowup, has_second_question

    original = RemoteAction.run
    if getattr(original, "_paylater_followup", False):
        return
    name = ActionFaqFollowup().name()

    async def run(self, output_channel, nlg, tracker, domain):
        if self.name() == name and self.action_endpoint:
            latest = tracker.latest_message
            if not has_second_question({"text": getattr(latest, "text", None)}):
                return []
        return await original(self, output_channel, nlg, tracker, domain)

    run._paylater_followup = True
    RemoteAction.run = run


# Custom actions that only compute events from the tracker (no backend, no other service): Rasa
# runs them itself, through rasa-sdk's own executor, instead of over HTTP.
LOCAL_ACTIONS = ("bot.actions.session:ActionSessionStart",)


def install_local_actions(paths=LOCAL_ACTIONS) -> None:
    """`action_session_start` (every new conversation) computes its events from the tracker
    alone. Rasa runs it in its own process through rasa-sdk's ActionExecutor, with the call body
    Rasa would have sent (`_action_call_format`, so the same event window), and takes the answer
    through the same JSON form, validation and deserialisation as an answer over HTTP. Saves the
    round trip and the action server's work (HTTP, Sanic, parsing the call) per conversation."""
    import importlib

    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core import events as core_events
    from rasa_sdk.executor import ActionExecutor

    original = RemoteAction.run
    if getattr(original, "_paylater_local", False):
        return
    executor = ActionExecutor()
    for path in paths:
        module, _, cls = path.partition(":")
        executor.register_action(getattr(importlib.import_module(module), cls))
    local = set(executor.actions)

    async def run(self, output_channel, nlg, tracker, domain):
        if self.name() not in local or not self.action_endpoint:
            return await original(self, output_channel, nlg, tracker, domain)
        body = self._action_call_format(tracker, domain)
        response = json.loads(json.dumps(await executor.run(body)))  # as it would come over the wire
        self._validate_action_result(response)
        bot_messages = await self._utter_responses(response.get("responses", []), output_channel, nlg, tracker)
        return bot_messages + core_events.deserialise_events(response.get("events", []))

    run._paylater_local = True
    RemoteAction.run = run


_NLU_THREAD = None


def nlu_executor():
    """One worker thread for NLU inference (created on first use, never at import)."""
    global _NLU_THREAD
    if _NLU_THREAD is None:
        from concurrent.futures import ThreadPoolExecutor

        _NLU_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paylater-nlu")
    return _NLU_THREAD


def install_nlu_off_loop() -> None:
    """Rasa 3.6 parses each message (the NLU graph: tokenizers, featurizers, two TensorFlow
    models) synchronously on its event loop: ~10 ms per message during which no other request is
    even read. Under 20 concurrent conversations a request on a new connection needs several loop
    turns before Rasa reads it, each turn running other messages' parses: the first message of a
    conversation waited up to seconds before Rasa saw it (bench: gateway send -> Rasa's request
    middleware), while Rasa's own handling took ~40 ms. Here the same `_parse_message_with_graph`
    runs in one dedicated thread (TensorFlow releases the GIL; one thread keeps NLU calls in order
    and never concurrent), and the loop keeps serving sockets meanwhile. Same function, same
    inputs: same parse (tests/shared/test_rasa_message_path.py compares on the product model).
    PAYLATER_NLU_THREAD=0 turns it off."""
    import asyncio
    import contextvars

    from rasa.core.processor import MessageProcessor

    from rasa.core import processor as rasa_processor
    from rasa.shared.core.trackers import DialogueStateTracker

    if getattr(MessageProcessor.parse_message, "_paylater", False):
        return
    original_parse = MessageProcessor.parse_message

    async def parse_message(self, message, tracker=None, only_output_properties=True):
        if self.http_interpreter:
            return await original_parse(self, message, tracker, only_output_properties)
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        ctx = contextvars.copy_context()  # the log lines' request / conversation ids
        parse_data = await asyncio.get_running_loop().run_in_executor(
            nlu_executor(), lambda: ctx.run(self._parse_message_with_graph, message, tracker, only_output_properties))
        # the rest of Rasa 3.6's parse_message, as it is
        self._update_full_retrieval_intent(parse_data)
        rasa_processor.structlogger.debug(
            "processor.message.parse",
            parse_data_text=rasa_processor.copy.deepcopy(parse_data["text"]),
            parse_data_intent=parse_data["intent"],
            parse_data_entities=rasa_processor.copy.deepcopy(parse_data["entities"]),
        )
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message._paylater = True
    MessageProcessor.parse_message = parse_message


def install_pooled_action_connections() -> None:
    """Rasa 3.6 opens a new aiohttp session, so a new TCP connection, for every call to an
    endpoint (`EndpointConfig.request`: every custom action). Here the sessions are kept, one per
    event loop and configuration (headers, basic auth), so action calls reuse keep-alive
    connections. Idle connections are dropped after 2 s, before the action server's own keep-alive
    timeout (Sanic: 5 s) could close one under a request. Requests, answers and errors are
    Rasa's: the same `request` runs, only `session()` hands out the kept session.

    A kept connection the action server closed (it restarted) may still be picked before this
    process has read the close: a call that fails with `ServerDisconnectedError` on a reused
    connection is sent once more, through Rasa's own one-off session (a new connection; that
    error only: the old server closed the connection without answering). tests/shared/test_action_server_restart.py restarts a real action server between
    two calls."""
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    import contextvars

    original = EndpointConfig.session
    if getattr(original, "_paylater", False):
        return
    kept = {}
    reused = contextvars.ContextVar("paylater_action_connection_reused", default=False)
    fresh = contextvars.ContextVar("paylater_action_fresh_session", default=False)

    async def on_reuse(_session, _ctx, _params):
        reused.set(True)

    trace = aiohttp.TraceConfig()
    trace.on_connection_reuseconn.append(on_reuse)
    trace.freeze()

    class _Kept:
        def __init__(self, session):
            self._session = session

        async def __aenter__(self):
            return self._session

        async def __aexit__(self, *exc):
            return False  # the session stays open for the next call

    def session(self):
        if fresh.get():
            return original(self)  # Rasa's own: a new session and connection, closed after the call
        loop = asyncio.get_running_loop()
        auth = tuple(sorted(self.basic_auth.items())) if self.basic_auth else None
        key = (loop, tuple(sorted((str(k), str(v)) for k, v in self.headers.items())), auth)
        s = kept.get(key)
        if s is None or s.closed:
            for k in [k for k in kept if k[0].is_closed()]:
                kept.pop(k)
            s = kept[key] = aiohttp.ClientSession(
                headers=self.headers,
                auth=aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=2.0),
                trace_configs=[trace],
            )
        return _Kept(s)

    original_request = EndpointConfig.request

    async def request(self, *args, **kwargs):
        reused.set(False)
        try:
            return await original_request(self, *args, **kwargs)
        except aiohttp.ServerDisconnectedError:
            if not reused.get():
                raise
        token = fresh.set(True)
        try:
            return await original_request(self, *args, **kwargs)  # on a new connection
        finally:
            fresh.reset(token)

    session._paylater = True
    session._original_request = original_request
    EndpointConfig.session = session
    EndpointConfig.request = request


def install_flat_states() -> None:
    """Rasa's dialogue states, applied events and tracker copies kept up to date message by
    message instead of rebuilt from the whole session several times per message
    (bot/flat_states.py; issue 14). Same predictions (tests/shared/test_flat_states.py)."""
    from bot import flat_states

    flat_states.install()


def _run_order(schema, targets) -> List[tuple]:
    """(node name, the names it needs in order) for every node `targets` depend on, each after
    the nodes it needs (depth-first from the targets, in the schema's own order of needs)."""
    order, seen = [], set()

    def visit(name):
        if name in seen or name not in schema.nodes:
            return
        seen.add(name)
        needs = list(schema.nodes[name].needs.values())
        for need in needs:
            visit(need)
        order.append((name, needs))

    for target in targets:
        visit(target)
    return order


def hstack_coo(a, b):
    """`scipy.sparse.hstack([a, b])` for two COO matrices with the same number of rows: the same
    steps as scipy 1.10's `bmat` (dtype upcast, index dtype from the larger dimension, the
    blocks' entries in order, columns of `b` shifted by `a`'s width), without converting each
    block again and the generic block-grid checks."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse._sputils import get_index_dtype, upcast

    shape = (a.shape[0], a.shape[1] + b.shape[1])
    dtype = upcast(a.dtype, b.dtype)
    idx_dtype = get_index_dtype(maxval=max(shape))
    na, nb = a.nnz, b.nnz
    data = np.empty(na + nb, dtype=dtype)
    row = np.empty(na + nb, dtype=idx_dtype)
    col = np.empty(na + nb, dtype=idx_dtype)
    data[:na], data[na:] = a.data, b.data
    zero, width = np.int64(0), np.int64(a.shape[1])
    np.add(a.row, zero, out=row[:na], dtype=idx_dtype)
    np.add(b.row, zero, out=row[na:], dtype=idx_dtype)
    np.add(a.col, zero, out=col[:na], dtype=idx_dtype)
    np.add(b.col, width, out=col[na:], dtype=idx_dtype)
    return coo_matrix((data, (row, col)), shape=shape)


def install_fast_sparse_combine() -> None:
    """Rasa combines each message's sparse features (regex, lexical, two count vectorizers) with
    `scipy.sparse.hstack`, i.e. scipy's general `bmat`, five times per classifier and message:
    ~10% of the NLU thread under cProfile. Two COO matrices (what the featurizers give) go
    through `hstack_coo` instead; anything else through scipy as before. Same matrices, same
    parses (tests/shared/test_sparse_combine.py)."""
    from rasa.shared.nlu.training_data.features import Features
    from scipy.sparse import hstack, isspmatrix_coo

    if getattr(Features._combine_sparse_features, "_paylater", False):
        return

    def _combine_sparse_features(self, additional_features):
        a, b = self.features, additional_features.features
        if a.shape[0] != b.shape[0]:
            raise ValueError(
                f"Cannot combine sparse features as sequence dimensions do not match: {a.shape[0]} != {b.shape[0]}.")
        self.features = hstack_coo(a, b) if isspmatrix_coo(a) and isspmatrix_coo(b) else hstack([a, b])
        self._cached_fingerprint = None

    _combine_sparse_features._paylater = True
    _combine_sparse_features._original = Features._combine_sparse_features
    Features._combine_sparse_features = _combine_sparse_features


def install_rule_key_cache() -> None:
    """RulePolicy checks every rule against the conversation's last states on every prediction
    (`_get_possible_keys` -> `_is_rule_applicable` per rule and turn), and `_is_rule_applicable`
    parses the rule's JSON key (`json.loads`) each time: ~13% of Rasa's CPU under the in-stack
    cProfile (docs/SCALING.md, third round). Here each key's states are parsed once and kept,
    reversed, as `_is_rule_applicable` uses them; the checks are Rasa's own, in the same order,
    on the same set, so the same rules match (tests/shared/test_rule_key_cache.py). The states
    are only read (`_does_rule_match_state`), never changed. PAYLATER_RULE_KEY_CACHE=0: off."""
    from rasa.core.policies.rule_policy import PREVIOUS_ACTION, RulePolicy

    if getattr(RulePolicy._is_rule_applicable, "_paylater", False):
        return
    parsed: dict = {}

    def _is_rule_applicable(self, rule_key, turn_index, conversation_state) -> bool:
        reversed_rule_states = parsed.get(rule_key)
        if reversed_rule_states is None:
            if len(parsed) >= 100_000:  # the keys of the loaded model(s): stays bounded anyway
                parsed.clear()
            reversed_rule_states = parsed[rule_key] = tuple(reversed(self._rule_key_to_state(rule_key)))
        # from here on Rasa 3.6's RulePolicy._is_rule_applicable, unchanged
        if turn_index >= len(reversed_rule_states):
            return True
        current_previous_action = conversation_state.get(PREVIOUS_ACTION)
        rule_previous_action = reversed_rule_states[turn_index].get(PREVIOUS_ACTION)
        if not rule_previous_action and not current_previous_action:
            return True
        if not rule_previous_action or not current_previous_action:
            return False
        return self._does_rule_match_state(reversed_rule_states[turn_index], conversation_state)

    _is_rule_applicable._paylater = True
    _is_rule_applicable._original = RulePolicy._is_rule_applicable
    RulePolicy._is_rule_applicable = _is_rule_applicable


# TensorFlow's thread pools for `rasa run` (the environment variables Rasa itself reads at start)
TF_THREAD_VARS = ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS")


def single_threaded_inference(environ=os.environ) -> None:
    """One thread per TensorFlow operation when serving, unless the operator set otherwise. By
    default TensorFlow splits each operation of DIET and the ResponseSelector (small matrices,
    one message at a time) over a pool of one thread per core: under 20 conversations the pool's
    threads took 3.7-4.3 ms CPU per message (handing work over, spinning while waiting for
    more) on top of the NLU thread's own. The parse itself is the same computation
    (tests/shared/test_tf_threads.py compares the product model's parses both ways). Training
    (`rasa train`) keeps TensorFlow's defaults."""
    for var in TF_THREAD_VARS:
        environ.setdefault(var, "1")


def _input_values(inputs, plan) -> dict:
    """The graph's inputs as dask hands them to the nodes (`(input name, value)`), refused as
    Rasa's runner refuses them when a value is a node's name."""
    from rasa.engine.exceptions import GraphRunError

    values = {}
    names = {name for name, _ in plan}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and (input_value in names or input_value in values):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure that none of the input "
                f"names passed to the `run` method are the same as node names in the graph schema.")
        values[input_name] = (input_name, input_value)
    return values


def install_sequential_graph_runner() -> None:
    """Rasa 3.6 runs its model graph through dask (`DaskGraphRunner.run`) for every parse and
    every next-action prediction (3-4 runs per message): each run builds the minimal schema and
    a dask graph, orders it and goes through dask's local scheduler, only to call the nodes one
    after another in this one thread. Here the order is worked out once per set of targets and
    the nodes are called in it with the same arguments: each node gets its needs as the
    `(node name, output)` pairs dask handed it (an input as `(input name, value)`, a need that is
    neither as its bare name), and the result is the targets' pairs, as `dict(dask.get(...))`.
    Same nodes, same inputs: same parses and predictions (tests/shared/test_graph_runner.py)."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    if getattr(DaskGraphRunner.run, "_paylater", False):
        return

    def run(self, inputs=None, targets=None):
        run_targets = targets if targets else self._graph_schema.target_names
        plans = self.__dict__.setdefault("_paylater_plans", {})
        key = tuple(run_targets)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _run_order(self._graph_schema.minimal_graph_schema(run_targets), run_targets)
        values = _input_values(inputs, plan)
        nodes = self._instantiated_nodes
        try:
            for name, needs in plan:
                values[name] = nodes[name](*[values.get(need, need) for need in needs])
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] for target in run_targets)

    run._paylater = True
    run._original = DaskGraphRunner.run
    DaskGraphRunner.run = run


# Rasa modules whose every `copy.deepcopy(...)` is an argument of a `structlogger.debug(...)` call
# (tests/shared/test_rasa_server.py checks it on the installed Rasa with `ast`).
DEBUG_COPY_MODULES = ("rasa.core.processor", "rasa.core.policies.rule_policy", "rasa.core.policies.memoization",
                      "rasa.core.actions.forms")


class _DebugOnlyCopy:
    """`copy` for a module that deep-copies only what it hands to structlog's debug: when
    structlog's debug is a no-op (Rasa configures a filtering logger whose `debug` is `_nop`
    below DEBUG) the copy would be thrown away, so none is made."""

    def __init__(self, module):
        self._copy = module

    def __getattr__(self, name):
        return getattr(self._copy, name)

    def deepcopy(self, x, memo=None, _nil=[]):  # noqa: B006 - copy.deepcopy's own signature
        if _structlog_debug_is_nop():
            return x
        return self._copy.deepcopy(x, memo)


def _structlog_debug_is_nop() -> bool:
    import structlog
    from structlog import _native

    wrapper = structlog.get_config().get("wrapper_class")
    return getattr(wrapper, "debug", None) is getattr(_native, "_nop", object())


def install_debug_only_copies() -> None:
    """Rasa 3.6 deep-copies events, states and parse data for every `structlogger.debug(...)`
    line it writes, whether debug logging is on or not: ~3% of a message's time (bench.profile
    --sample). With debug logging off those copies are skipped; with it on, nothing changes."""
    import copy
    import importlib

    for name in DEBUG_COPY_MODULES:
        module = importlib.import_module(name)
        if isinstance(getattr(module, "copy", None), _DebugOnlyCopy):
            continue
        module.copy = _DebugOnlyCopy(copy)


def install_logging(part: str) -> None:
    """Apply bot.logging_setup after Rasa / rasa-sdk set up their (coloured) handlers."""
    import rasa.utils.io
    import rasa_sdk.utils

    from bot.logging_setup import configure

    for module in (rasa.utils.io, rasa_sdk.utils):
        original = module.configure_colored_logging
        if getattr(original, "_paylater", False):
            continue

        def configured(loglevel, *args, _original=original, **kwargs):
            _original(loglevel, *args, **kwargs)
            configure(part)

        configured._paylater = True
        module.configure_colored_logging = configured


def install_request_context() -> None:
    """Rasa: every log line of a message's handling carries its request id and conversation id,
    and each message gets one INFO line (how long it took)."""
    from rasa.core.agent import Agent

    from bot.logging_setup import bind_from_metadata

    original = Agent.handle_message
    if getattr(original, "_paylater", False):
        return
    log = logging.getLogger("bot.rasa_server")

    async def handle_message(self, message, *args, **kwargs):
        bind_from_metadata(getattr(message, "metadata", None), getattr(message, "sender_id", None))
        started = time.monotonic()
        try:
            return await original(self, message, *args, **kwargs)
        finally:
            log.info("message handled in %.0f ms", (time.monotonic() - started) * 1000)

    handle_message._paylater = True
    Agent.handle_message = handle_message


def install_action_context() -> None:
    """Action server: the same ids for every action call (from the tracker the call carries),
    and one INFO line per action."""
    from rasa_sdk.executor import ActionExecutor

    from bot.logging_setup import bind_from_metadata

    original = ActionExecutor.run
    if getattr(original, "_paylater", False):
        return
    log = logging.getLogger("bot.actions")

    async def run(self, action_call, *args, **kwargs):
        tracker = action_call.get("tracker") or {}
        bind_from_metadata((tracker.get("latest_message") or {}).get("metadata"), tracker.get("sender_id"))
        started = time.monotonic()
        try:
            return await original(self, action_call, *args, **kwargs)
        finally:
            log.info("%s ran in %.0f ms", action_call.get("next_action"), (time.monotonic() - started) * 1000)

    run._paylater = True
    ActionExecutor.run = run


def main(argv: Optional[List[str]] = None) -> None:
    from bot.startup_checks import check_or_exit

    os.umask(0o077)  # the tracker database and logs: readable by this user only
    args = list(sys.argv[1:] if argv is None else argv)
    actions = args[:2] == ["run", "actions"]
    if not actions:
        args = with_token(args)
    check_or_exit("actions" if actions else "rasa")
    from bot.profiling import maybe_start

    maybe_start("actions" if actions else "rasa")  # PAYLATER_PROFILE_DIR (bench/stack_cpu.py)
    if not actions:
        if args[:1] == ["run"]:
            single_threaded_inference()
        install_cached_validation()
        if os.environ.get("PAYLATER_SQLITE_WAL", "1") == "1":
            install_sqlite_wal()
        install_request_context()
        install_slot_upkeep()
        install_lean_action_calls()
        install_local_followup_check()
        install_local_actions()
        install_pooled_action_connections()
        if os.environ.get("PAYLATER_NLU_THREAD", "1") != "0":
            install_nlu_off_loop()
        if os.environ.get("PAYLATER_FLAT_STATES", "1") != "0":
            install_flat_states()
            install_debug_only_copies()
        if os.environ.get("PAYLATER_FAST_MODEL_LOAD", "1") == "1":
            install_fast_model_load()
        if os.environ.get("PAYLATER_SEQUENTIAL_GRAPH", "1") != "0":
            install_sequential_graph_runner()
        if os.environ.get("PAYLATER_FAST_SPARSE", "1") != "0":
            install_fast_sparse_combine()
        if os.environ.get("PAYLATER_RULE_KEY_CACHE", "1") != "0":
            install_rule_key_cache()
    else:
        install_action_context()
    install_logging("actions" if actions else "rasa")
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]  # this process's copy: /proc/<pid>/cmdline keeps the original
    rasa_main()


if __name__ == "__main__":
    main()
