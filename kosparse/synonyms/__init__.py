"""The Korean–English dictionary: building, LLM verification, gold evaluation, code-switched queries."""
