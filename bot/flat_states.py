"""Rasa's dialogue states, kept up to date message by message instead of rebuilt from the whole
session on every prediction (issue 14: a message costs the same at turn 500 as at turn 5).

**Why.** Rasa 3.6's RulePolicy and MemoizationPolicy ask their featurizer for the states of the
conversation on every prediction (3-6 per message): `tracker.past_states` ->
`Domain.states_for_tracker_history`, which takes `tracker.applied_events()` (a pass over every
event of the session), replays all of them on a fresh tracker (`generate_all_prior_trackers`)
and builds one state per action. The processor also calls `applied_events()` itself a few times
per message. All of that grows with the session: at turn 150 it was most of Rasa's CPU.

**How.** For each conversation this keeps what the last computation reached:

* a *branch*: the number of the tracker's events already consumed (validated on every call by
  the identity of the first and the last of them), Rasa's applied-events list for them (the
  same state machine as `DialogueStateTracker.applied_events`: restarts and new sessions clear
  it, rewinds and form loops take events back out), and the set of loop names it has seen;
* per featurization (omit unset slots / rule-only turns hidden / rule-only data / domain) a
  *view*: the replayed prior tracker, the states built so far (the last ones only), the carry
  variables of `states_for_tracker_history` (last ML action, hidden turn) and checkpoints of the
  replayed tracker at the last few actions.

A new call consumes only the new events. When the applied list loses events (a rewind, a form's
loop execution taking the previous turn out) the view goes back to the newest checkpoint before
the change and replays from there. Anything it cannot vouch for is computed afresh, exactly as
Rasa does it: a tracker that is not a continuation of a cached one (another prefix, a reloaded
tracker, a tracker store that dropped events), a new loop name (Rasa's applied events depend on
the loop names of the *whole* session), an event that changes a user message an already built
state describes (`DefinePrevUserUtteredFeaturization` / `EntitiesAdded` after an action), a
checkpoint that is gone. Each conversation keeps at most two branches (a temporary tracker built
from a prefix does not evict the real one); the cache is an LRU over conversations.

What is patched (`install()`, from bot/rasa_server.py; PAYLATER_FLAT_STATES=0 turns it off):

1. `DialogueStateTracker.applied_events` -> a copy of the cached list.
2. `MaxHistoryTrackerFeaturizer.prediction_states` with a `max_history` (MemoizationPolicy's
   featurizer, max_history 3): only the last states are built and handed out (fresh copies,
   with Rasa's aliasing between them), then the same unlikely-intent filter, slicing and
   `_choose_last_user_input` as Rasa.
3. `RulePolicy._prediction_states` (its featurizer has no max_history: the whole session): the
   last `window` states, where `window` is one more than the longest learned rule. Rule
   matching (`_get_possible_keys`) never looks further back than the longest rule, and the
   feature key of a longer list can equal no rule key (it only decides `hide_rule_turn`), so
   predictions are the same; only RulePolicy's debug log line lists fewer states.
4. `DialogueStateTracker.copy` (run for every action by the processor, a replay of every event)
   -> the same tracker built from the original's fields, when the original's last events show
   what a replay would give (else Rasa's replay).

tests/shared/test_flat_states.py compares states, applied events, copies and predictions with
Rasa's own on the product's stories, rules and generated long sessions with forms, rewinds,
restarts and new sessions.
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import itertools
import json
import logging
import os
import threading
import weakref
from typing import Any, Dict, List, Optional, Tuple

from rasa.shared.core.constants import (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME, PREVIOUS_ACTION,
                                        RULE_ONLY_LOOPS, RULE_ONLY_SLOTS)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, DefinePrevUserUtteredFeaturization,
                                     EntitiesAdded, Event, FollowupAction, Restarted, SessionStarted,
                                     UserUttered, UserUtteranceReverted)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

State = Dict[str, Dict[str, Any]]

KEEP_STATES = 48  # states a view keeps (the last ones); a longer tail request is computed afresh
CHECKPOINTS = 12  # replayed-tracker checkpoints a view keeps (at its last actions: ~3 turns)
CHANGES = 64  # applied-list changes a branch remembers for its views
BRANCHES_PER_CONVERSATION = 2
MAX_CONVERSATIONS = 256


class _Stale(Exception):
    """The cached replay cannot be continued: compute afresh."""


# Rasa's own functions, kept before they are patched
_ORIGINAL = {}


def _rasa_applied_events(tracker: DialogueStateTracker) -> List[Event]:
    return _ORIGINAL.get("applied_events", DialogueStateTracker.applied_events)(tracker)


def rasa_states(tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: Optional[Dict[str, Any]] = None) -> List[State]:
    """Rasa 3.6's `Domain.states_for_tracker_history`, unpatched (the reference)."""
    applied = _ORIGINAL.get("applied_events")
    if applied is None:
        return domain.states_for_tracker_history(tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    patched = DialogueStateTracker.applied_events
    DialogueStateTracker.applied_events = applied
    try:
        return domain.states_for_tracker_history(tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    finally:
        DialogueStateTracker.applied_events = patched


# ---------------------------------------------------------------------------------------------
# the applied-events state machine of one conversation


class _Branch:
    """Rasa's applied events of the first `k` events of a conversation, kept up to date."""

    def __init__(self, tracker: DialogueStateTracker):
        self.owner = weakref.ref(tracker)
        self.sender_id = tracker.sender_id
        self.max_event_history = tracker._max_event_history
        self.k = 0
        self.first: Optional[Event] = None
        self.last: Optional[Event] = None
        self.applied: List[Event] = []
        self.loop_names: set = set()
        self.seq = 0
        self.changes: "collections.deque[Tuple[int, int]]" = collections.deque(maxlen=CHANGES)
        self.views: Dict[tuple, "_View"] = {}

    def continues(self, tracker: DialogueStateTracker) -> bool:
        """Is `tracker` these `k` events followed by zero or more new ones?"""
        events = tracker.events
        if len(events) < self.k or tracker._max_event_history != self.max_event_history:
            return False
        return self.k == 0 or (events[self.k - 1] is self.last and events[0] is self.first)

    def sync(self, tracker: DialogueStateTracker) -> None:
        events = tracker.events
        n = len(events)
        if n == self.k:
            return
        new = list(itertools.islice(events, self.k, n))
        names = {e.name for e in new if isinstance(e, ActiveLoop) and e.name}
        if not names <= self.loop_names:
            # Rasa's applied events depend on the loop names of the whole session: start over
            self.loop_names |= names
            old = self.applied
            self.applied = _rasa_applied_events(tracker)
            same = 0
            for a, b in zip(old, self.applied):
                if a is not b:
                    break
                same += 1
            self._changed(same)
        else:
            applied = self.applied
            low = len(applied)
            for event in new:
                low = self._apply(tracker, event, applied, low)
            self._changed(low)
        self.k, self.first, self.last = n, events[0], events[n - 1]

    def applied_for(self, tracker: DialogueStateTracker) -> Optional[List[Event]]:
        """The applied events of a tracker that continues this branch, the branch unchanged."""
        applied = list(self.applied)
        new = list(itertools.islice(tracker.events, self.k, None))
        if any(isinstance(e, ActiveLoop) and e.name and e.name not in self.loop_names for e in new):
            return None
        for event in new:
            self._apply(tracker, event, applied, 0)
        return applied

    def _changed(self, low: int) -> None:
        self.seq += 1
        self.changes.append((self.seq, low))

    def _apply(self, tracker: DialogueStateTracker, event: Event, applied: List[Event], low: int) -> int:
        """One step of `DialogueStateTracker.applied_events`; returns the lowest index changed."""
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
            return 0
        if isinstance(event, ActionReverted):
            DialogueStateTracker._undo_till_previous(ActionExecuted, applied)
            return min(low, len(applied))
        if isinstance(event, UserUtteranceReverted):
            DialogueStateTracker._undo_till_previous(UserUttered, applied)
            DialogueStateTracker._undo_till_previous(ActionExecuted, applied)
            return min(low, len(applied))
        if (isinstance(event, ActionExecuted) and event.action_name in self.loop_names
                and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            previous = 0
            for i in range(len(applied) - 1, -1, -1):
                e = applied[i]
                if isinstance(e, ActionExecuted) and e.action_name == event.action_name:
                    previous = i + 1  # the previous execution stays; what follows may go
                    break
            DialogueStateTracker._undo_till_previous_loop_execution(event.action_name, applied)
            return min(low, previous)
        applied.append(event)
        return low

    def unchanged_since(self, seq: int) -> Optional[int]:
        """How many applied events are the same as at change `seq` (None: too long ago to tell)."""
        if seq == self.seq:
            return len(self.applied)
        if not self.changes or self.changes[0][0] > seq + 1:
            return None
        return min(low for s, low in self.changes if s > seq)


# ---------------------------------------------------------------------------------------------
# the states of one featurization of a conversation


def _slot_state(slot: Slot) -> Any:
    if type(slot).__module__ == Slot.__module__:  # rasa's own slot types change only these two
        return (slot._value, slot._has_been_set)
    return dict(slot.__dict__)


def _restore_slot(slot: Slot, saved: Any) -> None:
    if isinstance(saved, tuple):
        slot._value, slot._has_been_set = saved
    else:
        slot.__dict__.clear()
        slot.__dict__.update(saved)


@dataclasses.dataclass
class _Checkpoint:
    pos: int  # the replayed tracker holds applied[:pos]; applied[pos] is an ActionExecuted
    slots: tuple
    paused: bool
    followup_action: Optional[str]
    latest_action: Any
    latest_message: Any
    latest_bot_utterance: Any
    active_loop: Any
    count: int
    last_ml: Any
    hidden: bool
    emitted: bool


class _View:
    """`Domain.states_for_tracker_history(tracker, omit, ignore, rule_only_data)`, incrementally."""

    def __init__(self, branch: _Branch, tracker: DialogueStateTracker, domain: Domain, omit: bool,
                 ignore: bool, rule_only_data: Optional[Dict[str, Any]], stats: "collections.Counter"):
        self.branch = branch
        self.stats = stats
        self.domain = domain
        self.omit, self.ignore, self.rule_only_data = omit, ignore, rule_only_data
        self.slot_names = tuple(tracker.slots)
        self.keep = KEEP_STATES
        self._reset(tracker)

    def _reset(self, tracker: DialogueStateTracker) -> None:
        self.tr = tracker.init_copy()  # what generate_all_prior_trackers starts from
        self.pos = 0
        self.states: List[State] = []  # the last committed states; states[0] is number `offset`
        self.offset = 0
        self.count = 0  # committed states in all
        self.last_ml: Any = None
        self.hidden = False
        self.emitted = False  # a state was built since the latest user message
        self.checkpoints: "collections.deque[_Checkpoint]" = collections.deque(maxlen=CHECKPOINTS)
        self.seq = self.branch.seq
        self.valid = 0  # the branch's applied[:valid] are what this view replayed

    def fits(self, tracker: DialogueStateTracker) -> bool:
        return tuple(tracker.slots) == self.slot_names

    # -- keeping up with the branch
    def update(self, tracker: DialogueStateTracker) -> None:
        branch = self.branch
        same = branch.unchanged_since(self.seq)
        if same is None:
            self._rebuild(tracker)
            return
        self.seq = branch.seq
        if same < self.pos:
            self._rewind(same)
        self._advance(branch.applied)

    def _rebuild(self, tracker: DialogueStateTracker) -> None:
        self._reset(tracker)
        self._advance(self.branch.applied, fresh=True)

    def _rewind(self, same: int) -> None:
        """Back to the newest checkpoint at or before applied[:same]."""
        while self.checkpoints and self.checkpoints[-1].pos > same:
            self.checkpoints.pop()
        if not self.checkpoints:
            raise _Stale
        cp = self.checkpoints[-1]
        self.stats["rewound"] += 1
        keep = cp.count - self.offset
        if keep < 0 or (self.ignore and cp.count and keep < 1):
            raise _Stale
        del self.states[keep:]
        tr = self.tr
        for slot, saved in zip(tr.slots.values(), cp.slots):
            _restore_slot(slot, saved)
        tr._paused, tr.followup_action = cp.paused, cp.followup_action
        tr.latest_action, tr.latest_message, tr.latest_bot_utterance = cp.latest_action, cp.latest_message, cp.latest_bot_utterance
        tr.active_loop = dataclasses.replace(cp.active_loop) if cp.active_loop is not None else None
        tr.events = collections.deque(itertools.islice(self.branch.applied, cp.pos), tr._max_event_history)
        self.pos, self.count, self.last_ml, self.hidden, self.emitted = cp.pos, cp.count, cp.last_ml, cp.hidden, cp.emitted
        self.checkpoints.pop()  # it is taken again when its action is replayed

    def _checkpoint(self) -> _Checkpoint:
        tr = self.tr
        return _Checkpoint(self.pos, tuple(_slot_state(s) for s in tr.slots.values()), tr._paused,
                           tr.followup_action, tr.latest_action, tr.latest_message, tr.latest_bot_utterance,
                           dataclasses.replace(tr.active_loop) if tr.active_loop is not None else None,
                           self.count, self.last_ml, self.hidden, self.emitted)

    def _advance(self, applied: List[Event], fresh: bool = False) -> None:
        """Replay applied[pos:] as generate_all_prior_trackers does, building the states.

        A `DefinePrevUserUtteredFeaturization` or `EntitiesAdded` event changes the latest user
        message in place; Rasa's replay then shows the changed message in every state since that
        message. A state built in an earlier call before the change would be out of date: that
        raises _Stale (a fresh replay, like Rasa's, sees the message as it is now)."""
        n = len(applied)
        risk = self.emitted and not fresh
        if self.pos >= n:
            return
        # checkpoints only at the last CHECKPOINTS actions (a long rebuild needs no more)
        first_checkpoint = self.pos
        if n - self.pos > CHECKPOINTS:
            seen = 0
            for i in range(n - 1, self.pos - 1, -1):
                if isinstance(applied[i], ActionExecuted):
                    seen += 1
                    if seen == CHECKPOINTS:
                        first_checkpoint = i
                        break
        tr = self.tr
        self.stats["replayed"] += n - self.pos
        for i in range(self.pos, n):
            event = applied[i]
            self.pos = i
            if isinstance(event, ActionExecuted):
                if i >= first_checkpoint:
                    self.checkpoints.append(self._checkpoint())
                self._emit(event.hide_rule_turn, commit=True)
            elif (risk and isinstance(event, (DefinePrevUserUtteredFeaturization, EntitiesAdded))
                  and tr.latest_action_name == ACTION_LISTEN_NAME and tr.latest_message):
                raise _Stale  # it changes the user message of a state built earlier
            tr.update(event)
            if isinstance(event, UserUttered):
                self.emitted = risk = False
        self.pos = n

    def _emit(self, hide_rule_turn: bool, commit: bool) -> Optional[State]:
        """The body of the loop in `Domain.states_for_tracker_history` (Rasa 3.6.21)."""
        tr, domain = self.tr, self.domain
        if self.ignore:
            if not self.hidden:
                self.last_ml = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                self.hidden = hide_rule_turn
            if self.hidden:
                return None
        state = domain.get_active_state(tr, omit_unset_slots=self.omit)
        if self.ignore:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if self.count:
                if not self.states:
                    raise _Stale
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml:
                state[PREVIOUS_ACTION] = self.last_ml
        state = domain._clean_state(state)
        if commit:
            self.states.append(state)
            self.count += 1
            self.emitted = True
            if len(self.states) > 2 * self.keep:
                drop = len(self.states) - self.keep
                del self.states[:drop]
                self.offset += drop
        return state

    def tail(self, need: int) -> Optional[Tuple[List[State], bool]]:
        """The last `need` states of Rasa's list (the final state included) and whether that is
        all of them; None when this view no longer holds them."""
        last_ml, hidden = self.last_ml, self.hidden
        final = self._emit(False, commit=False)
        self.last_ml, self.hidden = last_ml, hidden
        want = need - (final is not None)
        complete = self.count <= want
        start = max(self.count - want, 0)
        if start < self.offset:
            return None
        out = self.states[start - self.offset:]
        if final is not None:
            out = out + [final]
        return _copies(out), complete


def _copies(states: List[State]) -> List[State]:
    """Fresh states (the callers change them in place), sharing sub-states among themselves the
    way Rasa's list does (its substitutions share one dict between two states)."""
    memo: Dict[int, Any] = {}
    out = []
    for state in states:
        fresh = {}
        for key, sub in state.items():
            if isinstance(sub, dict):
                twin = memo.get(id(sub))
                if twin is None:
                    twin = memo[id(sub)] = dict(sub)
                fresh[key] = twin
            else:
                fresh[key] = sub
        out.append(fresh)
    return out


# ---------------------------------------------------------------------------------------------
# the cache


_FROZEN: Dict[int, Tuple[Any, Any]] = {}


def _freeze(value: Any) -> Any:
    """A hashable stand-in for rule_only_data (the same dict object comes back every call)."""
    if not value:
        return None
    hit = _FROZEN.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    try:
        frozen = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        frozen = ("id", id(value))
    if len(_FROZEN) > 64:
        _FROZEN.clear()
    _FROZEN[id(value)] = (value, frozen)
    return frozen


class FlatStates:
    """Branches per conversation (LRU over conversations)."""

    def __init__(self, max_conversations: int = MAX_CONVERSATIONS):
        self.max_conversations = max_conversations
        self._lock = threading.RLock()
        self._conversations: "collections.OrderedDict[Any, List[_Branch]]" = collections.OrderedDict()
        self.stats = collections.Counter()

    def clear(self) -> None:
        with self._lock:
            self._conversations.clear()

    def __len__(self) -> int:
        return len(self._conversations)

    def _find(self, tracker: DialogueStateTracker) -> Tuple[Optional[_Branch], str]:
        """The conversation's branch for this tracker and how it may be used:

        * "own": the tracker is the branch's owner (the tracker Rasa keeps for the conversation,
          e.g. the tracker store's) and continues it: the branch is brought up to date;
        * "fork": another tracker with the owner's events and maybe more (the processor's
          temporary copy for an action): answered from the branch without changing it;
        * "none": a tracker derived from a known one that does not continue it (a copy being
          built, a form's validation tracker, a tracker taken back in time): computed as Rasa
          does, nothing cached;
        * "new": an unrelated tracker (a tracker store load, a new session): a new branch owned
          by it (the conversation keeps BRANCHES_PER_CONVERSATION, most recently used first).

        A branch whose owner is gone is taken over by the first tracker that continues it.
        """
        key = tracker.sender_id
        branches = self._conversations.get(key)
        if branches is None:
            branches = self._conversations[key] = []
            while len(self._conversations) > self.max_conversations:
                self._conversations.popitem(last=False)
        else:
            self._conversations.move_to_end(key)
        events = tracker.events
        first = events[0] if events else None
        related = None
        for i, branch in enumerate(branches):
            owner = branch.owner()
            if owner is None and branch.continues(tracker):
                branch.owner = weakref.ref(tracker)  # the owner is gone: its continuation takes over
                owner = tracker
            if owner is tracker:
                if not branch.continues(tracker):
                    self.stats["owner_not_continuing"] += 1
                    return branch, "none"
                if i:
                    branches.insert(0, branches.pop(i))
                branch.sync(tracker)
                return branch, "own"
            if related is None and branch.k and first is branch.first:
                related = branch
        if related is not None:
            if related.continues(tracker):
                return related, "fork"
            self.stats["derived"] += 1
            return related, "none"
        branch = _Branch(tracker)
        branch.sync(tracker)
        branches.insert(0, branch)
        del branches[BRANCHES_PER_CONVERSATION:]
        self.stats["branch_new"] += 1
        return branch, "own"

    def applied_events(self, tracker: DialogueStateTracker) -> Optional[List[Event]]:
        """Rasa's `tracker.applied_events()`; None when it must be computed as Rasa does."""
        with self._lock:
            branch, mode = self._find(tracker)
            if mode == "own":
                return list(branch.applied)
            if mode == "fork":
                return branch.applied_for(tracker)
            return None

    def tail(self, tracker: DialogueStateTracker, domain: Domain, need: int, omit_unset_slots: bool = False,
             ignore_rule_only_turns: bool = False,
             rule_only_data: Optional[Dict[str, Any]] = None) -> Optional[Tuple[List[State], bool]]:
        """The last `need` states of `states_for_tracker_history(...)` (fresh dicts) and whether
        they are all of them; None if they must be computed afresh."""
        if need > KEEP_STATES:
            return None
        if not ignore_rule_only_turns:
            rule_only_data = None  # only read for rule-only turns
        with self._lock:
            branch, mode = self._find(tracker)
            if mode != "own":
                return None
            key = (id(domain), bool(omit_unset_slots), bool(ignore_rule_only_turns), _freeze(rule_only_data))
            view = branch.views.get(key)
            if view is not None and (view.domain is not domain or not view.fits(tracker)):
                view = None
            try:
                if view is None:
                    view = _View(branch, tracker, domain, omit_unset_slots, ignore_rule_only_turns,
                                 copy.deepcopy(rule_only_data), self.stats)
                    branch.views[key] = view
                    view._advance(branch.applied, fresh=True)
                    self.stats["view_new"] += 1
                else:
                    view.update(tracker)
                    self.stats["view_updated"] += 1
            except _Stale:
                self.stats["view_stale"] += 1
                view = _View(branch, tracker, domain, omit_unset_slots, ignore_rule_only_turns,
                             copy.deepcopy(rule_only_data), self.stats)
                branch.views[key] = view
                try:
                    view._advance(branch.applied, fresh=True)
                except _Stale:  # pragma: no cover - a fresh replay raises no _Stale
                    branch.views.pop(key, None)
                    return None
            return view.tail(need)

    def last_states(self, tracker: DialogueStateTracker, domain: Domain, max_history: int,
                    ignore_rule_only_turns: bool, rule_only_data: Optional[Dict[str, Any]],
                    drop_unlikely: bool) -> Optional[List[State]]:
        """What MaxHistoryTrackerFeaturizer.prediction_states builds for one tracker before
        `_choose_last_user_input`: the states, unlikely-intent states dropped if asked, sliced."""
        from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer

        need = max_history + 1
        while need <= KEEP_STATES:
            got = self.tail(tracker, domain, need, False, ignore_rule_only_turns, rule_only_data)
            if got is None:
                return None
            states, complete = got
            if drop_unlikely:
                states = TrackerFeaturizer._remove_action_unlikely_intent_from_states(states)
            if complete or len(states) >= max_history:
                return states[-max_history:]
            need *= 2
        return None


CACHE = FlatStates()


# ---------------------------------------------------------------------------------------------
# a tracker copy without replaying the session


def _followup_decided_by(events) -> Tuple[bool, Optional[str]]:
    """(True, the followup action a replay of `events` leaves) or (False, None) when an event
    among the last ones is one this does not know (then the caller replays)."""
    for event in events:
        if isinstance(event, (UserUttered, ActionExecuted)):
            return True, None  # both clear it
        if isinstance(event, FollowupAction):
            return True, event.action_name
        if isinstance(event, Restarted):
            return True, ACTION_SESSION_START_NAME
        if isinstance(event, SessionStarted):
            return True, ACTION_LISTEN_NAME  # _reset()
        if isinstance(event, (UserUtteranceReverted, ActionReverted)):
            return None, None  # _reset() and a replay of the applied events: see there
        if type(event).apply_to is not Event.apply_to and not isinstance(event, _NO_FOLLOWUP_CHANGE):
            return False, None
    return True, ACTION_LISTEN_NAME  # a new tracker's (and _reset()'s)


def _replayed_followup(tracker: DialogueStateTracker) -> Tuple[bool, Optional[str]]:
    """The followup action a replay of the tracker's events gives (what Rasa's `copy()` has:
    the processor clears the followup action of the tracker itself without an event)."""
    known, followup = _followup_decided_by(reversed(tracker.events))
    if known is None:
        # the latest deciding event is a rewind: it reset the tracker and replayed the applied
        # events, and the events after it decide nothing, so the applied events of the whole
        # tracker (the rewind's ones plus those) decide
        known, followup = _followup_decided_by(reversed(tracker.applied_events()))
        if known is None:  # pragma: no cover - applied events hold no rewind
            return False, None
    return known, followup


def _no_followup_change_events() -> tuple:
    from rasa.shared.core import events as ev

    return tuple(getattr(ev, name) for name in (
        "SlotSet", "BotUttered", "ActiveLoop", "LoopInterrupted", "ActionExecutionRejected", "AllSlotsReset",
        "ConversationPaused", "ConversationResumed", "DefinePrevUserUtteredFeaturization", "EntitiesAdded",
        "ReminderScheduled", "ReminderCancelled", "AgentUttered", "StoryExported") if hasattr(ev, name))


_NO_FOLLOWUP_CHANGE = _no_followup_change_events()


def fast_copy(tracker: DialogueStateTracker) -> Optional[DialogueStateTracker]:
    """`tracker.copy()` (a replay of every event on `init_copy()`) from the tracker's own state,
    or None when that might differ from the replay."""
    if type(tracker) is not DialogueStateTracker:
        return None
    known, followup = _replayed_followup(tracker)
    if not known:
        return None
    new = tracker.init_copy()
    new.events = collections.deque(tracker.events, tracker._max_event_history)
    for name, slot in tracker.slots.items():
        if name in new.slots:
            _restore_slot(new.slots[name], _slot_state(slot))
    new._paused = tracker._paused
    new.followup_action = followup
    new.latest_action = tracker.latest_action if tracker.latest_action is None else dict(tracker.latest_action)
    new.latest_message = tracker.latest_message
    new.latest_bot_utterance = tracker.latest_bot_utterance
    new.active_loop = dataclasses.replace(tracker.active_loop) if tracker.active_loop is not None else None
    return new


# ---------------------------------------------------------------------------------------------
# installing


def _rule_window(policy) -> int:
    """One more than the longest rule RulePolicy has learnt (states)."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    lookup = policy.lookup
    cached = getattr(policy, "_paylater_rule_window", None)
    if cached is not None and cached[0] is lookup:
        return cached[1]
    longest = 0
    for table in (lookup.get(RULES) or {}, lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH) or {}):
        for key in table:
            longest = max(longest, len(policy._rule_key_to_state(key)))
    window = longest + 1
    policy._paylater_rule_window = (lookup, window)
    return window


def install(cache: FlatStates = CACHE) -> None:
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.policy import SupportedData
    from rasa.core.policies.rule_policy import RulePolicy

    if getattr(DialogueStateTracker.applied_events, "_paylater", False):
        return
    _ORIGINAL["applied_events"] = original_applied = DialogueStateTracker.applied_events
    _ORIGINAL["copy"] = original_copy = DialogueStateTracker.copy
    _ORIGINAL["prediction_states"] = original_prediction_states = MaxHistoryTrackerFeaturizer.prediction_states
    _ORIGINAL["rule_prediction_states"] = original_rule_states = RulePolicy._prediction_states
    rasa_history = Domain.states_for_tracker_history

    def plain(domain) -> bool:
        return type(domain).states_for_tracker_history is rasa_history

    def applied_events(self):
        got = cache.applied_events(self) if type(self) is DialogueStateTracker else None
        return original_applied(self) if got is None else got

    def copy_(self):
        new = fast_copy(self)
        return original_copy(self) if new is None else new

    def prediction_states(self, trackers, domain, use_text_for_last_user_input=False, ignore_rule_only_turns=False,
                          rule_only_data=None, ignore_action_unlikely_intent=False):
        if type(self) is MaxHistoryTrackerFeaturizer and self.max_history and plain(domain):
            out = []
            for tracker in trackers:
                states = (cache.last_states(tracker, domain, self.max_history, ignore_rule_only_turns,
                                            rule_only_data, ignore_action_unlikely_intent)
                          if type(tracker) is DialogueStateTracker else None)
                if states is None:
                    break
                out.append(states)
            else:
                self._choose_last_user_input(out, use_text_for_last_user_input)
                return out
        return original_prediction_states(self, trackers, domain, use_text_for_last_user_input,
                                          ignore_rule_only_turns, rule_only_data, ignore_action_unlikely_intent)

    def rule_prediction_states(self, tracker, domain, use_text_for_last_user_input=False, rule_only_data=None):
        featurizer = self.featurizer
        if (type(featurizer) is MaxHistoryTrackerFeaturizer and not featurizer.max_history and plain(domain)
                and self.supported_data() != SupportedData.ML_DATA and type(tracker) is DialogueStateTracker):
            got = cache.tail(tracker, domain, _rule_window(self), False, False, rule_only_data)
            if got is not None:
                states = got[0]
                featurizer._choose_last_user_input([states], use_text_for_last_user_input)
                return states
        return original_rule_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)

    for fn in (applied_events, copy_, prediction_states, rule_prediction_states):
        fn._paylater = True
    DialogueStateTracker.applied_events = applied_events
    DialogueStateTracker.copy = copy_
    MaxHistoryTrackerFeaturizer.prediction_states = prediction_states
    RulePolicy._prediction_states = rule_prediction_states


def uninstall() -> None:
    """Rasa's own functions back (tests)."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy

    if "applied_events" not in _ORIGINAL:
        return
    DialogueStateTracker.applied_events = _ORIGINAL.pop("applied_events")
    DialogueStateTracker.copy = _ORIGINAL.pop("copy")
    MaxHistoryTrackerFeaturizer.prediction_states = _ORIGINAL.pop("prediction_states")
    RulePolicy._prediction_states = _ORIGINAL.pop("rule_prediction_states")
    CACHE.clear()


def enabled(environ=os.environ) -> bool:
    return environ.get("PAYLATER_FLAT_STATES", "1") != "0"
