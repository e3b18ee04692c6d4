//! Sessions, API tokens and sign-in throttling.

use starship_store::{now_millis, sessions, Conn};

use crate::fixtures;
use crate::support::store_test;

const HOUR: i64 = 3_600_000;

async fn two_users(conn: &mut Conn) -> starship_store::Result<(String, String)> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    let ana = fixtures::user(conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await?.id;
    let ben = fixtures::user(conn, Some(&acme), "ben@acme.example", "Ben", "Ng").await?.id;
    Ok((ana, ben))
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
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
    sessions::insert_api_token(&mut conn, &ana, "ci", "ana-token").await?;
    sessions::insert_session(&mut conn, "ben-laptop", &ben, now_millis() + HOUR).await?;
    sessions::insert_api_token(&mut conn, &ben, "ci", "ben-token").await?;

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
    let token = sessions::insert_api_token(&mut conn, &ana, "Backlot sync", "token-hash-a").await?;
    assert_eq!(token.name, "Backlot sync");
    sessions::insert_api_token(&mut conn, &ben, "Backlot sync", "token-hash-b").await?;
    assert_eq!(sessions::api_token_user(&mut conn, "token-hash-a").await?, Some(ana.clone()));
    assert_eq!(sessions::api_token_user(&mut conn, "token-hash-b").await?, Some(ben.clone()));
    assert_eq!(sessions::api_token_user(&mut conn, "token-hash-c").await?, None);
    assert!(
        sessions::insert_api_token(&mut conn, &ben, "copy", "token-hash-a").await.is_err(),
        "token hashes are unique"
    );
    Ok(())
});

store_test!(failed_sign_ins_throttle_at_the_limit_until_cleared, |store| async move {
    let mut conn = store.conn().await?;
    let (limit, window) = (3, HOUR);
    let ana = keys(&["email:ana@acme.example"]);
    let ben = keys(&["email:ben@acme.example"]);
    for _ in 0..limit - 1 {
        sessions::record_failure(&mut conn, &ana, window).await?;
    }
    assert!(!sessions::is_throttled(&mut conn, &ana, limit, window).await?, "below the limit");
    sessions::record_failure(&mut conn, &ana, window).await?;
    assert!(sessions::is_throttled(&mut conn, &ana, limit, window).await?, "at the limit");
    assert!(!sessions::is_throttled(&mut conn, &ben, limit, window).await?, "another account");
    assert!(
        sessions::is_throttled(&mut conn, &keys(&["email:ben@acme.example", "email:ana@acme.example"]), limit, window)
            .await?,
        "any key over"
    );

    sessions::clear_failures(&mut conn, "email:ana@acme.example").await?;
    assert!(!sessions::is_throttled(&mut conn, &ana, limit, window).await?, "cleared");
    sessions::record_failure(&mut conn, &ana, window).await?;
    assert!(!sessions::is_throttled(&mut conn, &ana, limit, window).await?, "counting starts again");
    Ok(())
});

store_test!(one_failure_counts_against_every_key_given, |store| async move {
    let mut conn = store.conn().await?;
    let both = keys(&["email:ana@acme.example", "ip:192.0.2.7"]);
    for _ in 0..2 {
        sessions::record_failure(&mut conn, &both, HOUR).await?;
    }
    assert!(sessions::is_throttled(&mut conn, &keys(&["ip:192.0.2.7"]), 2, HOUR).await?);
    assert!(sessions::is_throttled(&mut conn, &keys(&["email:ana@acme.example"]), 2, HOUR).await?);
    sessions::clear_failures(&mut conn, "email:ana@acme.example").await?;
    assert!(!sessions::is_throttled(&mut conn, &keys(&["email:ana@acme.example"]), 2, HOUR).await?);
    assert!(
        sessions::is_throttled(&mut conn, &keys(&["ip:192.0.2.7"]), 2, HOUR).await?,
        "clearing one key leaves the others"
    );
    Ok(())
});

store_test!(failures_outside_the_window_do_not_count, |store| async move {
    let mut conn = store.conn().await?;
    let ana = keys(&["email:ana@acme.example"]);
    for _ in 0..3 {
        sessions::record_failure(&mut conn, &ana, HOUR).await?;
    }
    assert!(sessions::is_throttled(&mut conn, &ana, 3, HOUR).await?);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(!sessions::is_throttled(&mut conn, &ana, 3, 1).await?, "a window that has run out");

    // A failure after the window ran out starts a new window at one.
    sessions::record_failure(&mut conn, &ana, 1).await?;
    assert!(!sessions::is_throttled(&mut conn, &ana, 2, HOUR).await?);
    sessions::record_failure(&mut conn, &ana, HOUR).await?;
    assert!(sessions::is_throttled(&mut conn, &ana, 2, HOUR).await?);
    Ok(())
});
