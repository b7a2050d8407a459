"""The bot: receives buyers first, answers what the knowledge base knows, and hands the
rest to the right team with a one-line summary for the agent."""
