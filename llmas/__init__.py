"""LLM agent layer."""
