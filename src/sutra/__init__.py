"""Sutra: an explainable reasoning engine.

from sutra import Sutra
with Sutra("./kb") as kb:
    kb.learn("Mary moved to the bathroom.", source="note-1")
    answer = kb.ask("Where is Mary?")
    print(answer.text, answer.confidence, answer.sources)
"""

from sutra.answer import Alternative, Answer, ReasoningPath, Step
from sutra.config import Settings
from sutra.engine import LearnReport, Sutra
from sutra.errors import (
    ConfigError,
    CorruptionError,
    InputError,
    IntegrityError,
    ModelError,
    NotFoundError,
    StorageError,
    StoreLockedError,
    SutraError,
)
from sutra.model import Association, AssociationType, Concept, ConceptKind, Document, SemanticType

__all__ = [
    "Alternative",
    "Answer",
    "Association",
    "AssociationType",
    "Concept",
    "ConceptKind",
    "ConfigError",
    "CorruptionError",
    "Document",
    "InputError",
    "IntegrityError",
    "LearnReport",
    "ModelError",
    "NotFoundError",
    "ReasoningPath",
    "SemanticType",
    "Settings",
    "Step",
    "StorageError",
    "StoreLockedError",
    "Sutra",
    "SutraError",
]
__version__ = "0.1.0"
