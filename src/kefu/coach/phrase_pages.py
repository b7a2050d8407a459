"""STUB: filled by a helper."""

from fastapi import APIRouter

router = APIRouter()
