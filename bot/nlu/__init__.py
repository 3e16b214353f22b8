"""Understanding helpers (issue 10): one place for what the bot does with a parse.

`decide` has no framework imports: the custom NLU component (`guard`), the actions
(`bot.actions.fallback`, `bot.actions.faq`) and the NLU check (`bot.nlu_check`) all call it, so
what is measured is what the bot does."""
