"""The event log: topics of partitions of Arrow record batches in segment files (see docs/storage-format.md)."""
