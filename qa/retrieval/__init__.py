"""Finding passages: hybrid dense + BM25 retrieval, score fusion, follow-up questions."""
