"""Events for buyers (issue 13): the outbox relay, proactive messages, the app's outgoing
webhook and the late-payment job. Its own tables (store.py), its own routes (routes.py); it
talks to conversations only through ConversationService."""
