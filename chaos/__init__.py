"""The chaos suite (`make chaos`) and the soak run (`make soak`): the whole stack, run by the
real supervisor (bot/stack.py) on a private PostgreSQL and Redis, with buyers and an agent
talking while parts fail. See docs/CHAOS.md."""
