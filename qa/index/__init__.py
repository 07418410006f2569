"""What an index holds and how it is written: passage store, dense and BM25 indexes, sentence vectors, the write path."""
