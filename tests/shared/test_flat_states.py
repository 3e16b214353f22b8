"""bot/flat_states.py pinned to Rasa 3.6.21: the incrementally kept states, applied events and
tracker copies are Rasa's own, for the product's stories, rules and conversation tests grown
event by event, for long generated sessions (forms, rewinds, restarts, new sessions, reloaded
and copied trackers), and — with the product model — whole conversations through Rasa's
processor give the same events with and without it, on one tracker store or two replicas
alternating on one database (failover mid-form). A message late in a long session replays only
its own events (a count, not a timing)."""
from __future__ import annotations

import asyncio
import contextlib
import glob
import io
import logging
import random

import pytest
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionReverted, DefinePrevUserUtteredFeaturization, Event,
                                     FollowupAction, Restarted, SessionStarted, SlotSet, UserUttered,
                                     UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import flat_states
from bot.config import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"
RULE_ONLY = {"rule_only_slots": ["handoff_offered"], "rule_only_loops": ["pay_later_application_form"]}
# (omit_unset_slots, ignore_rule_only_turns, rule_only_data): RulePolicy's, MemoizationPolicy's, and two more
FLAGS = [(False, False, None), (False, True, RULE_ONLY), (True, True, RULE_ONLY), (False, True, None)]


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def story_events(domain):
    """The events of every story, rule and conversation test of the product."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.core.training_data.structures import StoryGraph

    steps = []
    files = sorted(glob.glob(str(PROJECT_ROOT / "data" / "stories" / "*.yml")))
    files += sorted(glob.glob(str(PROJECT_ROOT / "data" / "rules" / "*.yml")))
    files.append(str(PROJECT_ROOT / "tests" / "test_stories.yml"))
    for f in files:
        steps += YAMLStoryReader(domain).read_from_file(f)
    with contextlib.redirect_stderr(io.StringIO()):  # progress bars
        trackers = TrainingDataGenerator(StoryGraph(steps), domain, remove_duplicates=False,
                                         augmentation_factor=0).generate()
    # rule snippets ("...") are training-only markers
    return [[e for e in t.events if not (isinstance(e, ActionExecuted) and e.action_name == "...")]
            for t in trackers]


@pytest.fixture
def installed():
    flat_states.install()
    yield flat_states.CACHE
    flat_states.uninstall()


def fresh(event: Event) -> Event:
    """The same event as a new object (what a tracker store load gives)."""
    return Event.from_parameters(event.as_dict())


def assert_same_as_rasa(tracker, domain, needs=(1, 2, 4, 11), cached=True):
    """Applied events, state tails, the featurizer's states and copies equal Rasa's; `cached`:
    the tails come from the cache (else the tracker is one the cache leaves to Rasa)."""
    ours = tracker.applied_events()
    theirs = flat_states._ORIGINAL["applied_events"](tracker)
    assert len(ours) == len(theirs) and all(a is b for a, b in zip(ours, theirs))
    for omit, ignore, rule_only in FLAGS:
        full = flat_states.rasa_states(tracker, domain, omit, ignore, rule_only)
        for need in needs:
            got = flat_states.CACHE.tail(tracker, domain, need, omit, ignore, rule_only)
            if not cached:
                assert got is None
                continue
            states, complete = got
            assert complete == (len(full) <= need)
            assert states == full[-need:]
    # the featurizer's answer (sliced, last user input chosen) as MemoizationPolicy gets it
    for featurizer in (MaxHistoryTrackerFeaturizer(None, max_history=3), MaxHistoryTrackerFeaturizer(None, max_history=5)):
        for ignore, rule_only in ((False, None), (True, RULE_ONLY)):
            for use_text in (False, True):
                ours = featurizer.prediction_states([tracker], domain, use_text, ignore, rule_only, True)
                theirs = flat_states._ORIGINAL["prediction_states"](featurizer, [tracker], domain, use_text, ignore,
                                                                    rule_only, True)
                assert ours == theirs
    ours, theirs = tracker.copy(), flat_states._ORIGINAL["copy"](tracker)
    for attr in ("followup_action", "_paused", "latest_action", "active_loop", "latest_bot_utterance", "events"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert ours.latest_message == theirs.latest_message or (ours.latest_message.is_empty()
                                                            and theirs.latest_message.is_empty())
    assert ours.current_slot_values() == theirs.current_slot_values()
    assert [s.has_been_set for s in ours.slots.values()] == [s.has_been_set for s in theirs.slots.values()]


def test_every_story_rule_and_conversation_test_grown_event_by_event(installed, domain, story_events):
    checked = 0
    for n, events in enumerate(story_events):
        tracker = DialogueStateTracker(f"story-{n % 5}", domain.slots)
        for i, event in enumerate(events):
            tracker.update(fresh(event))
            if isinstance(event, (ActionExecuted, UserUttered)) or i == len(events) - 1:
                assert_same_as_rasa(tracker, domain, needs=(1, 4))
                checked += 1
    assert checked > 800


def generated_session(rng, pieces, n_pieces):
    """Stories and rules glued together, with restarts, new sessions, rewinds (back, fallback),
    reverted actions, featurization events and followup actions between them."""
    out = []
    for _ in range(n_pieces):
        r = rng.random()
        if r < 0.03:
            out.append(Restarted())
        elif r < 0.06:
            out += [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
        elif r < 0.10:
            out.append(UserUtteranceReverted())
        elif r < 0.12:
            out.append(ActionReverted())
        elif r < 0.15:
            out.append(DefinePrevUserUtteredFeaturization(rng.random() < 0.5))
        elif r < 0.17:
            out.append(FollowupAction("utter_greet"))
        out += [fresh(e) for e in rng.choice(pieces)]
    return out


@pytest.mark.parametrize("seed", range(3))
def test_long_generated_sessions_with_forms_rewinds_restarts_and_reloads(installed, domain, story_events, seed):
    rng = random.Random(seed)
    for s in range(3):
        events = generated_session(rng, story_events, rng.randint(20, 60))
        tracker = DialogueStateTracker(f"gen-{s}", domain.slots)
        for event in events:
            tracker.update(event)
            if isinstance(event, UserUttered) or rng.random() < 0.25:
                assert_same_as_rasa(tracker, domain)
            if rng.random() < 0.02:  # the processor's temporary copy, or a tracker store reload, takes over
                tracker = (tracker.copy() if rng.random() < 0.5 else
                           DialogueStateTracker.from_dict(tracker.sender_id, [e.as_dict() for e in tracker.events],
                                                          domain.slots))
    assert installed.stats["rewound"] > 0  # forms and rewinds went back to checkpoints


def test_a_500_event_session_replays_only_the_new_events(installed, domain, story_events):
    faq = next(e for e in story_events if any(isinstance(x, UserUttered) for x in e) and len(e) < 12)
    tracker = DialogueStateTracker("long", domain.slots)
    while len(tracker.events) < 500:
        for event in faq:
            tracker.update(fresh(event))
    assert_same_as_rasa(tracker, domain)
    before = installed.stats["replayed"]
    for event in faq:  # one more turn
        tracker.update(fresh(event))
    for omit, ignore, rule_only in FLAGS:
        installed.tail(tracker, domain, 4, omit, ignore, rule_only)
    assert installed.stats["replayed"] - before <= len(FLAGS) * len(faq)
    assert_same_as_rasa(tracker, domain)


def test_a_tracker_that_is_not_a_continuation_is_computed_afresh(installed, domain, story_events):
    events = [fresh(e) for e in generated_session(random.Random(9), story_events, 30)]
    tracker = DialogueStateTracker.from_events("c", events, domain.slots)
    assert_same_as_rasa(tracker, domain)
    # built from the same events, but not their continuation (a form's validation tracker, a
    # copy being built): left to Rasa, the conversation's own tracker stays cached
    shorter = DialogueStateTracker.from_events("c", events[: len(events) // 2] + [SlotSet("order_id", "TA-1")],
                                               domain.slots)
    assert_same_as_rasa(shorter, domain, cached=False)
    assert_same_as_rasa(tracker, domain)
    # the processor's temporary copy with the prediction's events: answered from the branch
    temp = tracker.copy()
    temp.update(SlotSet("order_id", "TA-2"))
    assert flat_states.CACHE.applied_events(temp) == flat_states._ORIGINAL["applied_events"](temp)
    # a tracker store that lost events (pruned rows): same length, other events
    other = DialogueStateTracker.from_events("c", [fresh(e) for e in events], domain.slots)
    assert_same_as_rasa(other, domain)


def test_uninstall_gives_rasa_back():
    flat_states.install()
    flat_states.uninstall()
    assert not getattr(DialogueStateTracker.applied_events, "_paylater", False)
    assert not getattr(MaxHistoryTrackerFeaturizer.prediction_states, "_paylater", False)


# ------------------------------------------------------------------ whole conversations, real model
async def _fake_request(self, method="post", subpath=None, content_type="application/json", compress=False, **kwargs):
    """The custom actions, answered in-process: the form's validator accepts what was extracted,
    action_fallback rewinds the message as Rasa's default fallback does, the custom session
    start starts a session, action_list_orders sets an order; the others set nothing."""
    name = kwargs["json"]["next_action"]
    if name == "action_session_start":
        events = [{"event": "session_started"}, {"event": "slot", "name": "client", "value": "web"},
                  {"event": "action", "name": "action_listen"}]
    elif name == "action_fallback":
        events = [{"event": "rewind"}]
    elif name == "action_list_orders":
        events = [{"event": "slot", "name": "order_id", "value": "TA-100231"}]
    else:
        events = []
    return {"events": events, "responses": []}


def fake_action_server():
    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig("http://127.0.0.1:1/webhook")
    endpoint.request = _fake_request.__get__(endpoint)
    return endpoint


INTENTS = ["greet", "faq", "list_orders", "order_status", "check_pay_later", "credit_line", "thank", "affirm",
           "deny", "disbursement_status", "loan_cost", "out_of_scope", "nlu_fallback", "back", "restart",
           "session_start", "apply_pay_later", "stop", "human_handoff", "feedback_helpful", "ask_when"]


def script(seed: int, messages: int):
    """A buyer's messages by intent: FAQ and account questions, applications (the form answered
    field by field, sometimes stopped), rewinds, restarts and new sessions."""
    rng = random.Random(seed)
    out = []
    while len(out) < messages:
        intent = rng.choice(INTENTS)
        out.append(intent)
        if intent == "apply_pay_later":
            for _ in range(rng.randint(1, 7)):
                out.append(rng.choice(["inform"] * 6 + ["stop", "faq"]))
    return out[:messages]


def parse_data(intent: str, n: int) -> dict:
    entities = [{"entity": "order_id", "value": "TA-100231", "start": 0, "end": 9}] if intent == "order_status" else []
    name = "faq/what_is_pay_later" if intent == "faq" else intent
    return {"text": f"{intent} {n}", "intent": {"name": intent, "confidence": 0.95}, "entities": entities,
            "intent_ranking": [{"name": intent, "confidence": 0.95}],
            "response_selector": {"all_retrieval_intents": ["faq"],
                                  "faq": {"response": {"intent_response_key": name, "responses": [{"text": "x"}],
                                                       "confidence": 0.9, "utter_action": "utter_faq/what_is_pay_later"},
                                          "ranking": []}}
            if intent == "faq" else {}}


def comparable(events):
    out = []
    for e in events:
        d = e.as_dict()
        d.pop("timestamp", None)
        d.pop("metadata", None)
        d.pop("message_id", None)
        (d.get("parse_data") or {}).pop("message_id", None)
        out.append(d)
    return out


def scripted_conversation(agent, db_file, seed: int, messages: int = 80):
    """The seed's script through Rasa's processor on a fresh PayLaterTrackerStore at `db_file`:
    (its events as stored, comparable; what the bot said to each message)."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from bot.tracker_store import PayLaterTrackerStore

    logging.getLogger("rasa").setLevel(logging.ERROR)
    store = PayLaterTrackerStore(domain=agent.domain, dialect="sqlite", db=str(db_file))
    agent.processor.tracker_store = store
    sender, said = f"conv-{seed}", []
    for n, intent in enumerate(script(seed, messages)):
        out = CollectingOutputChannel()
        message = UserMessage(f"{intent} {n}", out, sender, parse_data=parse_data(intent, n), metadata={"client": "web"})
        agent._test_loop.run_until_complete(agent.processor.handle_message(message))
        said.append([m.get("text") for m in out.messages])
    tracker = agent._test_loop.run_until_complete(store.retrieve_full_tracker(sender))
    store.engine.dispose()
    return comparable(tracker.events), said


def assert_same_conversations(agent, tmp_path, seed: int, use, names=("before", "after")) -> None:
    """`use(name)` switches Rasa's code path; the seed's script gives the same stored events and
    the same answers both ways."""
    results = {}
    for name in names:
        use(name)
        results[name] = scripted_conversation(agent, tmp_path / f"{name}.db", seed)
    (events, said), (other_events, other_said) = (results[n] for n in names)
    assert len(events) > 3 * 80
    assert other_events == events and other_said == said


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL} (make train)")
    from rasa.core.agent import load_agent

    loop = asyncio.new_event_loop()
    agent = loop.run_until_complete(load_agent(model_path=str(MODEL)))
    agent._test_loop = loop
    agent.processor.action_endpoint = fake_action_server()
    yield agent
    loop.close()


def converse(agent, stores, sender: str, intents, switch_every: int):
    """Send the messages, the tracker store changing every `switch_every` messages (replicas
    taking turns on one database); returns the conversation's events as stored."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    processor = agent.processor
    for n, intent in enumerate(intents):
        processor.tracker_store = stores[(n // switch_every) % len(stores)]
        message = UserMessage(f"{intent} {n}", CollectingOutputChannel(), sender, parse_data=parse_data(intent, n),
                              metadata={"client": "web"})
        agent._test_loop.run_until_complete(processor.handle_message(message))
    tracker = agent._test_loop.run_until_complete(stores[0].retrieve_full_tracker(sender))
    return comparable(tracker.events)


@pytest.mark.parametrize("seed,messages,switch_every", [(1, 160, 10_000), (2, 120, 1), (3, 120, 3)],
                         ids=["one store, 160 messages", "two replicas alternating", "failover every 3 messages"])
def test_conversations_through_rasa_give_the_same_events(agent, domain, tmp_path, seed, messages, switch_every):
    """Rasa's processor with the product model: Rasa's own states vs ours, same events (actions,
    policies, confidences, slots), on PayLaterTrackerStore replicas sharing one SQLite file."""
    from bot.tracker_store import PayLaterTrackerStore

    logging.getLogger("rasa").setLevel(logging.ERROR)
    intents = script(seed, messages)
    results = []
    for flat in (False, True):
        db = tmp_path / f"tracker-{flat}.db"
        stores = [PayLaterTrackerStore(domain=agent.domain, dialect="sqlite", db=str(db)) for _ in range(2)]
        if flat:
            flat_states.install()
            before = flat_states.CACHE.stats.copy()
        try:
            results.append(converse(agent, stores, f"conv-{seed}", intents, switch_every))
            if flat:
                used = flat_states.CACHE.stats - before
        finally:
            flat_states.uninstall()
            for s in stores:
                s.engine.dispose()
    plain, ours = results
    assert len(plain) > 3 * messages  # the conversation really happened
    assert ours == plain
    kinds = {e["event"] for e in plain} | {e.get("name") for e in plain if e["event"] == "action"}
    assert {"pay_later_application_form", "rewind", "restart", "session_started"} <= kinds
    # the states were kept up to date, not rebuilt each time (a new branch per replica / reload)
    assert used["view_updated"] > 3 * messages
    assert used["view_new"] + used["view_stale"] < used["view_updated"] / 4
