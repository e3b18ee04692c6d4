//! Sessions, API tokens and sign-in throttling.

use starship_core::ids::{ApiTokenId, UserId};
use starship_store::sessions::Throttle;
use starship_store::{now_millis, sessions, sqlx, Conn, Store};

use crate::fixtures;
use crate::support::{store_test, Backend, TestDb};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn two_users(conn: &mut Conn) -> starship_store::Result<(UserId, UserId)> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    let ana = fixtures::user(conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await?.id;
    let ben = fixtures::user(conn, Some(&acme), "ben@acme.example", "Ben", "Ng").await?.id;
    Ok((ana, ben))
}

store_test!(a_live_session_names_its_user_until_signed_out, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = two_users(&mut conn).await?;
    sessions::insert_session(&mut conn, "session-hash-1", &ana, now_millis() + HOUR).await?;
    assert_eq!(sessions::session_user(&mut conn, "session-hash-1").await?, Some(ana.clone()));
    assert_eq!(sessions::session_user(&mut conn, "unknown-hash").await?, None);

    assert_eq!(sessions::delete_session(&mut conn, "session-hash-1").await?, Some(ana.clone()));
    assert_eq!(sessions::session_user(&mut conn, "session-hash-1").await?, None);
    assert_eq!(sessions::delete_session(&mut conn, "session-hash-1").await?, None, "signing out twice");
    Ok(())
});

store_test!(an_expired_session_is_not_found, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = two_users(&mut conn).await?;
    sessions::insert_session(&mut conn, "expired", &ana, now_millis() - 1).await?;
    sessions::insert_session(&mut conn, "live", &ana, now_millis() + HOUR).await?;
    assert_eq!(sessions::session_user(&mut conn, "expired").await?, None);
    assert_eq!(sessions::purge_expired_sessions(&mut conn).await?, 1);
    assert_eq!(sessions::delete_session(&mut conn, "expired").await?, None, "the purge removed it");
    assert_eq!(sessions::session_user(&mut conn, "live").await?, Some(ana.clone()));
    Ok(())
});

store_test!(ending_all_sign_ins_ends_every_session_and_token_of_the_user_only, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, ben) = two_users(&mut conn).await?;
    sessions::insert_session(&mut conn, "ana-laptop", &ana, now_millis() + HOUR).await?;
    sessions::insert_session(&mut conn, "ana-phone", &ana, now_millis() + HOUR).await?;
    sessions::insert_api_token(&mut conn, &ana, "ci", "ana-token", now_millis() + DAY).await?;
    sessions::insert_session(&mut conn, "ben-laptop", &ben, now_millis() + HOUR).await?;
    sessions::insert_api_token(&mut conn, &ben, "ci", "ben-token", now_millis() + DAY).await?;

    sessions::end_all_for_user(&mut conn, &ana).await?;
    assert_eq!(sessions::session_user(&mut conn, "ana-laptop").await?, None);
    assert_eq!(sessions::session_user(&mut conn, "ana-phone").await?, None);
    assert_eq!(sessions::api_token_user(&mut conn, "ana-token").await?, None);
    assert_eq!(sessions::session_user(&mut conn, "ben-laptop").await?, Some(ben.clone()));
    assert_eq!(sessions::api_token_user(&mut conn, "ben-token").await?, Some(ben.clone()));

    sessions::end_all_for_user(&mut conn, &ana).await?;
    Ok(())
});

store_test!(an_api_token_names_its_user, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, ben) = two_users(&mut conn).await?;
    let token = sessions::insert_api_token(&mut conn, &ana, "Backlot sync", "token-hash-a", now_millis() + DAY).await?;
    assert_eq!(token.name, "Backlot sync");
    sessions::insert_api_token(&mut conn, &ben, "Backlot sync", "token-hash-b", now_millis() + DAY).await?;
    assert_eq!(sessions::api_token_user(&mut conn, "token-hash-a").await?, Some(ana.clone()));
    assert_eq!(sessions::api_token_user(&mut conn, "token-hash-b").await?, Some(ben.clone()));
    assert_eq!(sessions::api_token_user(&mut conn, "token-hash-c").await?, None);
    assert!(
        sessions::insert_api_token(&mut conn, &ben, "copy", "token-hash-a", now_millis() + DAY).await.is_err(),
        "token hashes are unique"
    );
    Ok(())
});

store_test!(an_expired_or_revoked_token_names_nobody, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = two_users(&mut conn).await?;
    sessions::insert_api_token(&mut conn, &ana, "old", "expired-hash", now_millis() - 1).await?;
    let revoked = sessions::insert_api_token(&mut conn, &ana, "gone", "revoked-hash", now_millis() + DAY).await?;
    sessions::insert_api_token(&mut conn, &ana, "live", "live-hash", now_millis() + DAY).await?;
    assert_eq!(sessions::revoke_api_token(&mut conn, &ana, &revoked.id).await?.as_deref(), Some("gone"));

    assert_eq!(sessions::api_token_user(&mut conn, "expired-hash").await?, None);
    assert_eq!(sessions::api_token_user(&mut conn, "revoked-hash").await?, None);
    assert_eq!(sessions::api_token_user(&mut conn, "live-hash").await?, Some(ana.clone()));
    Ok(())
});

async fn last_used_at(conn: &mut Conn, token_id: &str) -> starship_store::Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE id = $1")
        .bind(token_id)
        .fetch_one(&mut *conn)
        .await?)
}

store_test!(using_a_token_notes_when_at_most_once_a_minute, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = two_users(&mut conn).await?;
    let token = sessions::insert_api_token(&mut conn, &ana, "ci", "ci-hash", now_millis() + DAY).await?;
    assert_eq!(last_used_at(&mut conn, &token.id).await?, None, "never used");

    let before = now_millis();
    sessions::api_token_user(&mut conn, "ci-hash").await?;
    let first = last_used_at(&mut conn, &token.id).await?.expect("the first use is noted");
    assert!(first >= before);

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    sessions::api_token_user(&mut conn, "ci-hash").await?;
    assert_eq!(last_used_at(&mut conn, &token.id).await?, Some(first), "a use within the minute writes nothing");

    let stale = first - sessions::LAST_USED_PRECISION_MS - 1;
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(stale)
        .bind(&token.id)
        .execute(&mut *conn)
        .await?;
    sessions::api_token_user(&mut conn, "ci-hash").await?;
    assert!(last_used_at(&mut conn, &token.id).await?.is_some_and(|at| at > first), "a minute later it is noted again");

    sessions::api_token_user(&mut conn, "not-a-token").await?;
    Ok(())
});

store_test!(a_users_live_tokens_are_listed_newest_first_and_only_theirs, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, ben) = two_users(&mut conn).await?;
    let expires_at = now_millis() + 30 * DAY;
    let first = sessions::insert_api_token(&mut conn, &ana, "first", "a1", expires_at).await?;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let second = sessions::insert_api_token(&mut conn, &ana, "second", "a2", expires_at).await?;
    let revoked = sessions::insert_api_token(&mut conn, &ana, "revoked", "a3", expires_at).await?;
    sessions::revoke_api_token(&mut conn, &ana, &revoked.id).await?;
    sessions::insert_api_token(&mut conn, &ana, "expired", "a4", now_millis() - 1).await?;
    sessions::insert_api_token(&mut conn, &ben, "ben's", "b1", expires_at).await?;
    sessions::api_token_user(&mut conn, "a1").await?;

    let listed = sessions::list_api_tokens(&mut conn, &ana).await?;
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["second", "first"]);
    assert_eq!(listed[1].id, first.id);
    assert_eq!(listed[1].created_at, first.created_at);
    assert_eq!(listed[1].expires_at, expires_at);
    assert!(listed[1].last_used_at.is_some(), "used once");
    assert_eq!(listed[0], second, "never used");
    assert_eq!(sessions::list_api_tokens(&mut conn, &ben).await?.len(), 1);
    Ok(())
});

store_test!(a_token_is_revoked_only_by_its_owner_and_once, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, ben) = two_users(&mut conn).await?;
    let token = sessions::insert_api_token(&mut conn, &ana, "ci", "ci-hash", now_millis() + DAY).await?;

    assert_eq!(sessions::revoke_api_token(&mut conn, &ben, &token.id).await?, None, "another person's token");
    assert_eq!(sessions::api_token_user(&mut conn, "ci-hash").await?, Some(ana.clone()), "still works");
    assert_eq!(sessions::revoke_api_token(&mut conn, &ana, &ApiTokenId::from("no-such-token")).await?, None);

    assert_eq!(sessions::revoke_api_token(&mut conn, &ana, &token.id).await?.as_deref(), Some("ci"));
    assert_eq!(sessions::api_token_user(&mut conn, "ci-hash").await?, None);
    assert_eq!(sessions::revoke_api_token(&mut conn, &ana, &token.id).await?, None, "revoked already");
    Ok(())
});

store_test!(ending_all_but_one_session_keeps_it_and_ends_every_token, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, ben) = two_users(&mut conn).await?;
    for session in ["ana-here", "ana-laptop", "ana-phone"] {
        sessions::insert_session(&mut conn, session, &ana, now_millis() + HOUR).await?;
    }
    sessions::insert_api_token(&mut conn, &ana, "ci", "ana-token", now_millis() + DAY).await?;
    sessions::insert_session(&mut conn, "ben-laptop", &ben, now_millis() + HOUR).await?;

    let ended = sessions::end_all_for_user_except(&mut conn, &ana, Some("ana-here")).await?;
    assert_eq!(ended, sessions::Ended { sessions: 2, tokens: 1 });
    assert_eq!(sessions::session_user(&mut conn, "ana-here").await?, Some(ana.clone()));
    assert_eq!(sessions::session_user(&mut conn, "ana-laptop").await?, None);
    assert_eq!(sessions::session_user(&mut conn, "ana-phone").await?, None);
    assert_eq!(sessions::api_token_user(&mut conn, "ana-token").await?, None);
    assert_eq!(sessions::session_user(&mut conn, "ben-laptop").await?, Some(ben.clone()));
    Ok(())
});

fn throttles(keys: &[&str], limit: i64) -> Vec<Throttle> {
    keys.iter().map(|k| Throttle::new(*k, limit)).collect()
}

store_test!(attempts_are_let_through_up_to_the_limit_until_cleared, |store| async move {
    let mut conn = store.conn().await?;
    let (limit, window) = (3, HOUR);
    let ana = throttles(&["email:ana@acme.example"], limit);
    let ben = throttles(&["email:ben@acme.example"], limit);
    for attempt in 1..=limit {
        assert!(sessions::reserve_attempt(&mut conn, &ana, window).await?, "attempt {attempt} is within the limit");
    }
    assert!(!sessions::reserve_attempt(&mut conn, &ana, window).await?, "past the limit");
    assert!(sessions::reserve_attempt(&mut conn, &ben, window).await?, "another account");

    sessions::clear_failures(&mut conn, "email:ana@acme.example").await?;
    assert!(sessions::reserve_attempt(&mut conn, &ana, window).await?, "cleared");
    Ok(())
});

store_test!(a_released_attempt_is_given_back_and_every_key_counts, |store| async move {
    let mut conn = store.conn().await?;
    let both = vec![Throttle::new("email:ana@acme.example", 5), Throttle::new("ip:192.0.2.7", 2)];
    assert!(sessions::reserve_attempt(&mut conn, &both, HOUR).await?);
    assert!(sessions::reserve_attempt(&mut conn, &both, HOUR).await?);
    assert!(!sessions::reserve_attempt(&mut conn, &both, HOUR).await?, "the address is past its own limit");
    sessions::release_attempt(&mut conn, "ip:192.0.2.7").await?;
    sessions::release_attempt(&mut conn, "ip:192.0.2.7").await?;
    assert!(
        sessions::reserve_attempt(&mut conn, &throttles(&["ip:192.0.2.7"], 2), HOUR).await?,
        "released attempts are given back"
    );
    Ok(())
});

store_test!(a_concurrent_burst_gets_at_most_the_limit_through, |store| async move {
    let limit = 5;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await?;
            let allowed =
                sessions::reserve_attempt(&mut tx, &throttles(&["email:ana@acme.example"], limit), HOUR).await?;
            if allowed {
                tx.commit().await?;
            }
            Ok::<_, starship_store::StoreError>(allowed)
        }));
    }
    let mut allowed = 0;
    for task in tasks {
        allowed += i64::from(task.await.expect("the task ran")?);
    }
    assert_eq!(allowed, limit, "exactly the limit, however the attempts interleave");
    Ok(())
});

store_test!(attempts_outside_the_window_do_not_count, |store| async move {
    let mut conn = store.conn().await?;
    let ana = throttles(&["email:ana@acme.example"], 2);
    for _ in 0..2 {
        sessions::reserve_attempt(&mut conn, &ana, HOUR).await?;
    }
    assert!(!sessions::reserve_attempt(&mut conn, &ana, HOUR).await?);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // A window of 1 ms has run out: counting starts again at one.
    assert!(sessions::reserve_attempt(&mut conn, &ana, 1).await?, "a window that has run out");
    assert!(sessions::reserve_attempt(&mut conn, &ana, HOUR).await?);
    assert!(!sessions::reserve_attempt(&mut conn, &ana, HOUR).await?);
    Ok(())
});

store_test!(an_address_is_known_only_to_the_account_that_signed_in_there, |store| async move {
    let mut conn = store.conn().await?;
    sessions::remember_client(&mut conn, "ana@acme.example", "192.0.2.7").await?;
    let since = now_millis() - HOUR;
    assert!(sessions::is_known_client(&mut conn, "ana@acme.example", "192.0.2.7", since).await?);
    assert!(!sessions::is_known_client(&mut conn, "ben@acme.example", "192.0.2.7", since).await?);
    assert!(!sessions::is_known_client(&mut conn, "ana@acme.example", "192.0.2.8", since).await?);
    assert!(
        !sessions::is_known_client(&mut conn, "ana@acme.example", "192.0.2.7", now_millis() + 1).await?,
        "too long ago"
    );
    Ok(())
});

/// A store upgraded from before tokens expired: the tokens it holds get 90
/// days from the upgrade, counted from the start of its day (UTC).
async fn upgrading_gives_existing_tokens_ninety_days(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(db.url()).await.expect("connecting");
    let before_tokens_expired = tempfile::tempdir().expect("a directory for the older migrations");
    let dialect = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect);
    for entry in std::fs::read_dir(&all).expect("the migrations") {
        let name = entry.expect("a migration").file_name();
        if name.to_string_lossy().as_ref() < "0009" {
            std::fs::copy(all.join(&name), before_tokens_expired.path().join(&name)).expect("copying a migration");
        }
    }
    let older = sqlx::migrate::Migrator::new(before_tokens_expired.path()).await.expect("the older migrations");
    older.run(store.pool()).await.expect("migrating to the version before");

    let mut conn = store.conn().await.expect("a connection");
    let (ana, _) = two_users(&mut conn).await.expect("users");
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, name, created_at) VALUES ('legacy', $1, 'legacy-hash', 'cron', $2)",
    )
    .bind(&ana)
    .bind(now_millis() - 400 * DAY)
    .execute(&mut *conn)
    .await
    .expect("a token of the older version");
    drop(conn);

    let day_before = now_millis() / DAY;
    store.migrate().await.expect("upgrading");
    let day_after = now_millis() / DAY;

    let mut conn = store.conn().await.expect("a connection");
    let listed = sessions::list_api_tokens(&mut conn, &ana).await.expect("the tokens");
    assert_eq!(listed.len(), 1, "the old token still works");
    let expiry_day = listed[0].expires_at / DAY;
    assert_eq!(listed[0].expires_at % DAY, 0, "midnight UTC");
    assert!((day_before + 90..=day_after + 90).contains(&expiry_day), "{expiry_day} is 90 days after {day_before}");
    assert_eq!(sessions::api_token_user(&mut conn, "legacy-hash").await.expect("a lookup"), Some(ana));
    drop(conn);
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn upgrading_gives_existing_tokens_ninety_days_sqlite() {
    upgrading_gives_existing_tokens_ninety_days(Backend::Sqlite).await;
}

#[tokio::test]
async fn upgrading_gives_existing_tokens_ninety_days_postgres() {
    upgrading_gives_existing_tokens_ninety_days(Backend::Postgres).await;
}
