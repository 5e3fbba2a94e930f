"""Shots: film vocabulary, prompts, coverage, model families and binding a shot to a world."""
