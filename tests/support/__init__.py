"""Helpers the tests share: documents, processes, polls; imported by test modules and conftests."""
