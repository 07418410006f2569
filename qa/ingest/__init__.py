"""Reading files into documents: loaders, formats, chunking, folder watching."""
