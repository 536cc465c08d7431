//! Query strings: read into the wire query types of [`super::wire`] by the
//! [`QueryString`] extractor. Every problem is a 400 naming the parameter and what it
//! takes, an unknown parameter included, so a misspelt filter is never silently ignored.
//!
//! What a parameter means (a status, a time, a mode) is the handler's to read; this
//! module only checks names, numbers and presence.

use super::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// A query string as sent: each parameter's name and raw value.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Refuses any parameter not in `known`.
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(ApiError::BadRequest(format!(
                "unknown query parameter `{k}`; this endpoint takes {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// A text parameter, as sent.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// A text parameter that must be there; `missing` says what to send.
    pub(crate) fn required(&self, name: &str, missing: &str) -> Result<String, ApiError> {
        self.text(name)
            .ok_or_else(|| ApiError::BadRequest(missing.to_string()))
    }

    /// A whole number from `min` to `max`.
    pub(crate) fn whole(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        self.number(name, min, max, || format!("from {min} to {max}"))
    }

    /// A whole number of at least `min`.
    pub(crate) fn at_least(&self, name: &str, min: i64) -> Result<Option<i64>, ApiError> {
        self.number(name, min, i64::MAX, || format!("≥ {min}"))
    }

    fn number(
        &self,
        name: &str,
        min: i64,
        max: i64,
        range: impl FnOnce() -> String,
    ) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.0.get(name) else {
            return Ok(None);
        };
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::BadRequest(format!(
                "query parameter `{name}` must be a whole number {}, got {v:?}",
                range()
            ))),
        }
    }

    /// `true` or `false`.
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name).map(String::as_str) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::BadRequest(format!(
                "query parameter `{name}` must be true or false, got {v:?}"
            ))),
        }
    }
}

/// A wire query type, read from a query string.
pub(crate) trait FromParams: Sized {
    /// Reads the parameters, answering the first problem.
    fn from_params(p: &Params) -> Result<Self, ApiError>;
}

/// Extracts a [`FromParams`] query type; a query string that cannot be decoded at all
/// gets axum's own 400.
pub(crate) struct QueryString<T>(pub(crate) T);

impl<T: FromParams, S: Send + Sync> FromRequestParts<S> for QueryString<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Query(raw) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        T::from_params(&Params(raw))
            .map(QueryString)
            .map_err(IntoResponse::into_response)
    }
}

/// A time bound given as parameter `name`: RFC 3339 (`2026-11-01T09:00:00Z`) or a date
/// (`2026-11-01`, the start of that day in UTC; as `to`, the end of it).
pub(crate) fn time_bound(
    name: &str,
    value: Option<&str>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = value else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let d = if name == "to" {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(Some(
            d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc(),
        ));
    }
    Err(ApiError::BadRequest(format!(
        "query parameter `{name}` must be a time such as 2026-11-01T09:00:00Z or a date such as 2026-11-01, got {v:?}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::{
        ActionsQuery, ApprovalsQuery, CalendarQuery, ChatHistoryQuery, EmployeeCalendarQuery,
        EmployeesQuery, EpisodesQuery, EscalationsQuery, FactsQuery, InboxQuery, ProceduresQuery,
        RecallQuery, TasksQuery,
    };
    use serde::Serialize;

    /// The query string a client (the CLI's reqwest) sends for `q`, read back as the API
    /// reads it.
    fn sent<T: Serialize + FromParams>(q: &T) -> Result<T, ApiError> {
        crate::telemetry::install_crypto_provider();
        let request = reqwest::Client::new()
            .get("http://node.test/api/v1/x")
            .query(q)
            .build()
            .expect("the query serialises");
        let raw = request.url().query_pairs().into_owned().collect();
        T::from_params(&Params(raw))
    }

    fn round_trip<T: Serialize + FromParams + PartialEq + std::fmt::Debug>(q: T) {
        match sent(&q) {
            Ok(back) => assert_eq!(back, q),
            Err(e) => panic!("{q:?} was refused: {e:?}"),
        }
    }

    #[test]
    fn every_query_type_reads_back_what_a_client_sends() {
        round_trip(EmployeesQuery::default());
        round_trip(EmployeesQuery {
            limit: Some(1000),
            offset: Some(0),
        });
        round_trip(EpisodesQuery {
            limit: Some(5),
            before: Some(42),
        });
        round_trip(ActionsQuery { limit: Some(1) });
        round_trip(ApprovalsQuery {
            employee: Some("pat.doe".into()),
            status: Some("all".into()),
            limit: Some(100),
        });
        round_trip(EscalationsQuery {
            employee: None,
            status: Some("pending".into()),
            limit: None,
        });
        round_trip(RecallQuery {
            q: Some("volume & pricing? 100%".into()),
            from: Some("2026-11-01".into()),
            to: Some("2026-11-02T09:00:00+01:00".into()),
            with: Some("Sarah Chen <sarah@acme.com>".into()),
            mode: Some("text".into()),
            limit: Some(200),
            offset: Some(10_000),
        });
        round_trip(RecallQuery {
            q: Some(String::new()),
            ..RecallQuery::default()
        });
        round_trip(FactsQuery {
            subject: Some("Northwind Traders".into()),
            depth: Some(6),
            limit: None,
            offset: Some(0),
        });
        round_trip(ProceduresQuery {
            task: Some("email.received".into()),
        });
        round_trip(InboxQuery {
            address: "alex.morgan@example.com".into(),
            limit: Some(20),
        });
        round_trip(ChatHistoryQuery {
            conversation: Some("priya".into()),
            limit: Some(50),
        });
        round_trip(TasksQuery {
            open: Some(false),
            limit: None,
        });
        round_trip(TasksQuery {
            open: Some(true),
            limit: Some(3),
        });
        round_trip(CalendarQuery {
            owner: "riley.quinn".into(),
            from: Some("2026-12-01T00:00:00+00:00".into()),
            to: None,
        });
        round_trip(EmployeeCalendarQuery::default());
    }

    fn refused<T: FromParams>(pairs: &[(&str, &str)]) -> String {
        let raw = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match T::from_params(&Params(raw)) {
            Err(ApiError::BadRequest(m)) => m,
            Err(e) => panic!("{pairs:?}: not a 400 but {e:?}"),
            Ok(_) => panic!("{pairs:?} was accepted"),
        }
    }

    #[test]
    fn a_bad_or_unknown_parameter_is_named_with_what_it_takes() {
        assert_eq!(
            refused::<EpisodesQuery>(&[("limit", "0")]),
            "query parameter `limit` must be a whole number from 1 to 1000, got \"0\""
        );
        assert_eq!(
            refused::<EmployeesQuery>(&[("offset", "-1")]),
            "query parameter `offset` must be a whole number ≥ 0, got \"-1\""
        );
        assert_eq!(
            refused::<TasksQuery>(&[("open", "yes")]),
            "query parameter `open` must be true or false, got \"yes\""
        );
        assert!(
            refused::<ApprovalsQuery>(&[("stauts", "pending")]).starts_with(
                "unknown query parameter `stauts`; this endpoint takes employee, status, limit"
            )
        );
        assert!(refused::<InboxQuery>(&[]).contains("`address` is required"));
        assert!(
            refused::<CalendarQuery>(&[("from", "2026-12-01")]).contains("`owner` is required")
        );
    }
}
