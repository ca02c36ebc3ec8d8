"""Helpers the tests share: documents, processes, polls, the command line; imported by test
modules and conftests."""
