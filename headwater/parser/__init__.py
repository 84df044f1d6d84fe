"""The ksqlDB statement language: text -> statement objects (:mod:`headwater.parser.ast`) and back."""
