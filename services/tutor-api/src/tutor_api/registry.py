"""The model registry: endpoints stored by name, one of them active."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.contracts.endpoints import (
    DEFAULT_KEY_ENVS,
    ModelEndpointCreate,
    ModelEndpointUpdate,
    check_key_env,
)
from tutorlab.jobs.models import utcnow

from tutor_api.models import ModelEndpointRow


class EndpointExists(Exception):
    pass


class EndpointNotFound(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"model {name!r} is not registered")
        self.name = name


class NoActiveModel(Exception):
    pass


class Registry:
    """``key_envs``: the variables an endpoint may name as ``api_key_env`` (the service's
    ``model_key_envs``); create and update raise KeyEnvNotAllowed for any other."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        key_envs: Sequence[str] = DEFAULT_KEY_ENVS,
    ) -> None:
        self.sessions = sessions
        self.key_envs = tuple(key_envs)

    async def create(self, data: ModelEndpointCreate) -> ModelEndpointRow:
        check_key_env(data.api_key_env, self.key_envs)
        row = ModelEndpointRow(
            name=data.name,
            kind=data.kind.value,
            base_url=data.base_url or "",
            model=data.model,
            params=data.params.model_dump(exclude_none=True),
            max_concurrency=data.max_concurrency,
            api_key_env=data.api_key_env,
            meta=data.metadata,
        )
        try:
            async with self.sessions() as session:
                if await session.get(ModelEndpointRow, data.name) is not None:
                    raise EndpointExists(data.name)
                session.add(row)
                await session.commit()
        except IntegrityError as exc:
            raise EndpointExists(data.name) from exc
        return row

    async def list(self) -> list[ModelEndpointRow]:
        async with self.sessions() as session:
            result = await session.exec(select(ModelEndpointRow).order_by(ModelEndpointRow.name))
            return list(result.all())

    async def get(self, name: str) -> ModelEndpointRow:
        async with self.sessions() as session:
            row = await session.get(ModelEndpointRow, name)
        if row is None:
            raise EndpointNotFound(name)
        return row

    async def update(self, name: str, data: ModelEndpointUpdate) -> ModelEndpointRow:
        """Apply ``data`` and re-check the whole endpoint by the registration rules.

        Raises pydantic's ValidationError when the result would not be a valid registration
        (e.g. ``base_url: null``, or a tinker endpoint's model that is not a tinker:// path).
        """
        changes = data.model_dump(exclude_unset=True)
        async with self.sessions() as session:
            row = await session.get(ModelEndpointRow, name)
            if row is None:
                raise EndpointNotFound(name)
            merged = row.to_endpoint().model_dump(mode="json", exclude={"active"})
            for key, value in changes.items():
                merged[key] = {} if value is None and key in ("params", "metadata") else value
            checked = ModelEndpointCreate.model_validate(merged)
            check_key_env(checked.api_key_env, self.key_envs)
            row.base_url = checked.base_url or ""
            row.model = checked.model
            row.params = checked.params.model_dump(exclude_none=True)
            row.max_concurrency = checked.max_concurrency
            row.api_key_env = checked.api_key_env
            row.meta = checked.metadata
            row.updated_at = utcnow()
            session.add(row)
            await session.commit()
            return row

    async def delete(self, name: str) -> None:
        async with self.sessions() as session:
            row = await session.get(ModelEndpointRow, name)
            if row is None:
                raise EndpointNotFound(name)
            await session.delete(row)
            await session.commit()

    async def activate(self, name: str) -> ModelEndpointRow:
        async with self.sessions() as session:
            row = await session.get(ModelEndpointRow, name)
            if row is None:
                raise EndpointNotFound(name)
            await session.exec(
                update(ModelEndpointRow)
                .where(col(ModelEndpointRow.name) != name)
                .values(active=False)
            )
            row.active = True
            row.updated_at = utcnow()
            session.add(row)
            await session.commit()
            return row

    async def active(self) -> ModelEndpointRow:
        async with self.sessions() as session:
            result = await session.exec(
                select(ModelEndpointRow).where(col(ModelEndpointRow.active).is_(True))
            )
            row = result.first()
        if row is None:
            raise NoActiveModel("no model given and none is active: POST /models/{name}/activate")
        return row
