//! Searching users by name or email, as an admin types.

use starship_store::users::{self, User};
use starship_store::Conn;

use crate::fixtures;
use crate::support::store_test;

/// Two partners: Acme with Ana Lopez, Anabel Ortiz, Carlos Anaya and Dana
/// White; Zenith with Ana Smith and Émile Zola.
struct People {
    acme: String,
    zenith: String,
    ana: User,
    anabel: User,
    carlos: User,
    dana: User,
    ana_smith: User,
    emile: User,
}

async fn people(conn: &mut Conn) -> starship_store::Result<People> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    let zenith = fixtures::partner(conn, "Zenith Post").await?.id;
    Ok(People {
        ana: fixtures::user(conn, Some(&acme), "ana.lopez@acme.example", "Ana", "Lopez").await?,
        anabel: fixtures::user(conn, Some(&acme), "a.ortiz@acme.example", "Anabel", "Ortiz").await?,
        carlos: fixtures::user(conn, Some(&acme), "carlos@acme.example", "Carlos", "Anaya").await?,
        dana: fixtures::user(conn, Some(&acme), "nana@acme.example", "Dana", "White").await?,
        ana_smith: fixtures::user(conn, Some(&zenith), "ana.smith@zenith.example", "Ana", "Smith").await?,
        emile: fixtures::user(conn, Some(&zenith), "emile@zenith.example", "Émile", "Zola").await?,
        acme,
        zenith,
    })
}

async fn ids(conn: &mut Conn, partner: Option<&str>, query: &str, limit: i64) -> starship_store::Result<Vec<String>> {
    Ok(users::search(conn, partner, query, limit).await?.into_iter().map(|u| u.id).collect())
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

store_test!(search_matches_the_start_of_a_first_name_last_name_full_name_or_email_then_inside, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    let id = |u: &User| u.id.clone();

    assert_eq!(ids(&mut conn, None, "lop", 10).await?, [id(&p.ana)], "last name");
    assert_eq!(ids(&mut conn, None, "anab", 10).await?, [id(&p.anabel)], "first name");
    assert_eq!(ids(&mut conn, None, "ana lo", 10).await?, [id(&p.ana)], "first and last name");
    assert_eq!(ids(&mut conn, None, "carlos@", 10).await?, [id(&p.carlos)], "email");
    assert_eq!(ids(&mut conn, None, "nana", 10).await?, [id(&p.dana)], "email, not the middle of a name");
    assert_eq!(ids(&mut conn, None, "opez", 10).await?, [id(&p.ana)], "from three letters, inside a name too");
    assert!(ids(&mut conn, None, "pe", 10).await?.is_empty(), "two letters match the start of a word only");
    assert!(ids(&mut conn, None, "white dana", 10).await?.is_empty(), "last then first is not a name");

    let every_ana = sorted(vec![id(&p.ana), id(&p.anabel), id(&p.carlos), id(&p.ana_smith)]);
    let found = ids(&mut conn, None, "ana", 10).await?;
    assert_eq!(sorted(found[..4].to_vec()), every_ana, "first names, last names and emails starting with it first");
    assert_eq!(found[4..], [id(&p.dana)], "then Dana, with it inside");
    Ok(())
});

store_test!(search_ignores_case_and_surrounding_spaces, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    assert_eq!(ids(&mut conn, None, "  ANA LO ", 10).await?, [p.ana.id.as_str()]);
    assert_eq!(ids(&mut conn, None, "A.ORTIZ@ACME", 10).await?, [p.anabel.id.as_str()]);
    assert_eq!(ids(&mut conn, None, "ÉMI", 10).await?, [p.emile.id.as_str()], "accented letters fold too");
    assert_eq!(ids(&mut conn, None, "émile z", 10).await?, [p.emile.id.as_str()]);
    Ok(())
});

store_test!(search_within_a_partner_finds_only_its_users, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    let acme_anas = sorted(vec![p.ana.id.clone(), p.anabel.id.clone(), p.carlos.id.clone(), p.dana.id.clone()]);
    assert_eq!(sorted(ids(&mut conn, Some(&p.acme), "ana", 10).await?), acme_anas);
    assert_eq!(ids(&mut conn, Some(&p.zenith), "ana", 10).await?, [p.ana_smith.id.as_str()]);
    assert!(ids(&mut conn, Some(&p.acme), "emile", 10).await?.is_empty(), "another partner's user");
    assert!(ids(&mut conn, Some("no-such-partner"), "ana", 10).await?.is_empty());
    Ok(())
});

store_test!(search_puts_exact_matches_first, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    // Both match the query as an email prefix; alphabetically Adam comes first.
    let adam = fixtures::user(&mut conn, Some(&acme), "ops@acme.example.org", "Adam", "Beck").await?;
    let zoe = fixtures::user(&mut conn, Some(&acme), "ops@acme.example", "Zoe", "Quinn").await?;
    assert_eq!(ids(&mut conn, None, "ops@acme.example", 10).await?, [zoe.id.clone(), adam.id.clone()]);
    assert_eq!(
        ids(&mut conn, None, "ops@acme.ex", 10).await?,
        [adam.id.clone(), zoe.id.clone()],
        "no exact match: by name"
    );

    // A name match ranks before an email match, unless the email is exact.
    let ops_team = fixtures::user(&mut conn, Some(&acme), "zz@acme.example", "Ops", "Team").await?;
    assert_eq!(ids(&mut conn, None, "ops", 10).await?, [ops_team.id.clone(), adam.id.clone(), zoe.id.clone()]);
    Ok(())
});

store_test!(search_returns_at_most_the_limit, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let mut sams = vec![];
    for i in 1..=12 {
        sams.push(
            fixtures::user(&mut conn, Some(&acme), &format!("sam{i:02}@acme.example"), "Sam", &format!("Number{i:02}"))
                .await?
                .id,
        );
    }
    assert_eq!(ids(&mut conn, None, "sam", 5).await?, sams[..5], "the first five by name");
    assert_eq!(ids(&mut conn, Some(&acme), "sam", 20).await?, sams);
    assert_eq!(ids(&mut conn, None, "sam", 0).await?.len(), 1, "a limit below one is one");
    Ok(())
});

store_test!(an_empty_search_finds_nobody, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    assert!(ids(&mut conn, None, "", 10).await?.is_empty());
    assert!(ids(&mut conn, None, "   ", 10).await?.is_empty());
    assert!(ids(&mut conn, Some(&p.acme), "", 10).await?.is_empty());
    assert!(ids(&mut conn, None, "zzz", 10).await?.is_empty());
    Ok(())
});
