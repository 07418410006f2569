"""Measuring: question sets, metrics, relevance judgements, reports."""
