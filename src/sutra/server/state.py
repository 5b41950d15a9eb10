"""Everything a request handler needs, built once per app and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from sutra.embedding.base import Embedder
from sutra.server.accounts import Accounts
from sutra.server.answer_cache import AnswerCache
from sutra.server.config import ServerConfig
from sutra.server.ratelimit import RateLimiter
from sutra.server.spaces import Spaces
from sutra.server.tokens import TokenSigner, load_secret


@dataclass(slots=True)
class ServerState:
    config: ServerConfig
    accounts: Accounts
    spaces: Spaces
    signer: TokenSigner
    limiter: RateLimiter
    answers: AnswerCache

    @classmethod
    def build(cls, config: ServerConfig, embedder: Embedder | None) -> ServerState:
        accounts = Accounts(config.accounts_path)
        return cls(
            config=config,
            accounts=accounts,
            spaces=Spaces(config, accounts, embedder),
            signer=TokenSigner(load_secret(config.secret_path), config.token_ttl_seconds),
            limiter=RateLimiter(config.rate_per_second, config.rate_burst),
            answers=AnswerCache(config.answer_cache_size),
        )

    def close(self) -> None:
        self.spaces.close()
        self.accounts.close()


def state_of(request: Request) -> ServerState:
    return request.app.state.sutra  # type: ignore[no-any-return]
