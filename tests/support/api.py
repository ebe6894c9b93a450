"""A thin HTTP client for tests: every call goes over real HTTP to a running appliance."""

from __future__ import annotations

from dataclasses import dataclass

import requests


@dataclass
class User:
    id: int
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def request(self, method: str, path: str, user: User | str | None = None, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        token = user.token if isinstance(user, User) else user
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path, user=None, **kw):
        return self.request("GET", path, user, **kw)

    def post(self, path, user=None, **kw):
        return self.request("POST", path, user, **kw)

    def put(self, path, user=None, **kw):
        return self.request("PUT", path, user, **kw)

    def patch(self, path, user=None, **kw):
        return self.request("PATCH", path, user, **kw)

    def delete(self, path, user=None, **kw):
        return self.request("DELETE", path, user, **kw)

    def login(self, email: str, password: str) -> User:
        response = self.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        body = response.json()
        return User(body["user"]["id"], email, password, body["token"])

    def create_user(self, admin: User, email: str, password: str = "correct-horse-1", **fields) -> User:
        response = self.post("/api/admin/users", admin, json={"email": email, "password": password, **fields})
        assert response.status_code == 201, response.text
        return self.login(email, password)

    def create_monitor(self, user: User, **fields) -> dict:
        response = self.post("/api/monitors", user, json=fields)
        assert response.status_code == 201, response.text
        return response.json()
