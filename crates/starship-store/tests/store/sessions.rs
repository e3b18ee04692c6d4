//! Sessions, API tokens and sign-in throttling.

use starship_store::sessions::Throttle;
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
