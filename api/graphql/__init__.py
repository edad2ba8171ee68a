"""The GraphQL API (API-1 … API-5): one schema per enabled-module set."""
