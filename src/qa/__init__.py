"""Extractive French question answering over news articles: the engine, with no UI import."""
