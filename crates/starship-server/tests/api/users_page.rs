//! The Users page lists everyone the viewer may find before anything is
//! typed: a page at a time (keyset, previous and next), sorted by name,
//! email or last change, within the viewer's partner (operators: all).

use reqwest::StatusCode;

use crate::support::*;
use crate::web::{page, signed_in_browser};

/// The people listed, in order, as (name, email).
fn listed(html: &str) -> Vec<(String, String)> {
    html.split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let name = row.split("\">").nth(1).unwrap().split("</a>").next().unwrap().to_string();
            let email = row.split("<td class=\"wrap-anywhere\">").nth(1).unwrap().split("</td>").next().unwrap();
            (name, email.to_string())
        })
        .collect()
}

fn link(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    Some(html[start..].split('"').next()?.replace("&amp;", "&").replace("&#38;", "&"))
}

app_test!(the_users_page_lists_everyone_a_page_at_a_time_before_anything_is_typed, |app| async move {
    let w = world(&app).await;
    for i in 0..30 {
        app.member(Some(&w.sunrise), &format!("person{i:02}.sunrise@sunrise.example")).await;
    }
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (status, html) = page(&app, &mara, "/users").await;
    assert_eq!(status, StatusCode::OK);
    let first = listed(&html);
    assert_eq!(first.len(), 25, "a full first page");
    let mut names: Vec<String> = first.iter().map(|(n, _)| n.to_lowercase()).collect();
    let sorted = {
        let mut s = names.clone();
        s.sort();
        s
    };
    assert_eq!(names, sorted, "by name");
    assert!(link(&html, "prev").is_none(), "no previous page before the first");
    assert!(!html.contains("nina.north@northwind.example"), "not another partner's people");

    let next = link(&html, "next").expect("a next page");
    assert!(next.starts_with("/users?sort=name&after="), "{next}");
    let (_, html) = page(&app, &mara, &next).await;
    let second = listed(&html);
    assert_eq!(second.len(), 34 - 25, "the rest of Sunrise's 34 people");
    assert!(link(&html, "next").is_none(), "no next page after the last");
    assert!(second.iter().all(|p| !first.contains(p)), "no one twice");
    names.extend(second.iter().map(|(n, _)| n.to_lowercase()));
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "name order across pages");

    let previous = link(&html, "prev").expect("a previous page");
    let (_, html) = page(&app, &mara, &previous).await;
    assert_eq!(listed(&html), first, "previous leads back to the first page");
    assert!(link(&html, "prev").is_none());

    let (_, html) = page(&app, &mara, "/users?sort=email").await;
    let emails: Vec<String> = listed(&html).into_iter().map(|(_, e)| e).collect();
    assert_eq!(emails[0], "alex.academy@sunrise.example", "by email");
    assert!(emails.windows(2).all(|w| w[0] <= w[1]));
    assert!(html.contains(r#"aria-sort="ascending"><a href="/users?sort=email">"#), "the sorted column says so");

    let (status, _) = app
        .call(
            &app.signed_in("mara.master@sunrise.example").await,
            "PATCH",
            &format!("/api/v1/users/{}", w.plain),
            Some(serde_json::json!({"phone": "+1 303 555 0100"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, html) = page(&app, &mara, "/users?sort=changed").await;
    assert_eq!(listed(&html)[0].1, "pat.plain@sunrise.example", "the last changed first");

    let (_, html) = page(&app, &mara, &format!("/users?after={}", w.outsider)).await;
    assert!(listed(&html).is_empty(), "another partner's person is no cursor");
    let (status, html) = page(&app, &mara, "/users?sort=nonsense&before=nobody").await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed(&html).is_empty());

    let olivia = signed_in_browser(&app, "olivia.operator@starship.example").await;
    let (_, html) = page(&app, &olivia, "/users?sort=email").await;
    let mut all = listed(&html);
    let mut next = link(&html, "next");
    while let Some(href) = next {
        let (_, html) = page(&app, &olivia, &href).await;
        all.extend(listed(&html));
        next = link(&html, "next");
    }
    assert_eq!(all.len(), 34 + 2, "operators list everyone, the other partner and themselves included");
});

app_test!(the_users_api_lists_everyone_a_page_at_a_time_without_a_search, |app| async move {
    let w = world(&app).await;
    for i in 0..30 {
        app.member(Some(&w.sunrise), &format!("person{i:02}.sunrise@sunrise.example")).await;
    }
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let emails = |body: &serde_json::Value| -> Vec<String> {
        body.as_array().unwrap().iter().map(|p| p["email"].as_str().unwrap().to_string()).collect()
    };
    let (status, body) = app.get(&mara, "/api/v1/users?sort=email&limit=20").await;
    assert_eq!(status, StatusCode::OK);
    let first = emails(&body);
    assert_eq!(first.len(), 20);
    assert_eq!(first[0], "alex.academy@sunrise.example", "by email");
    assert!(first.iter().all(|e| e.ends_with("@sunrise.example")), "only one's own partner");
    let last_id = body[19]["id"].as_str().unwrap().to_string();
    let (_, body) = app.get(&mara, &format!("/api/v1/users?sort=email&limit=20&after={last_id}")).await;
    let second = emails(&body);
    assert_eq!(second.len(), 34 - 20, "the rest of Sunrise's 34 people");
    let mut all = first.clone();
    all.extend(second.clone());
    assert!(all.windows(2).all(|pair| pair[0] < pair[1]), "email order across pages, no one twice");
    let first_id = body[0]["id"].as_str().unwrap().to_string();
    let (_, body) = app.get(&mara, &format!("/api/v1/users?sort=email&limit=20&before={first_id}")).await;
    assert_eq!(emails(&body), first, "before leads back to the first page");
    // Blank `q` lists too; a search answers its best matches, not pages.
    let (status, body) = app.get(&mara, "/api/v1/users?q=%20%20").await;
    assert_eq!((status, body.as_array().unwrap().len()), (StatusCode::OK, 20), "the default page");
    for refused in ["/api/v1/users?sort=age", "/api/v1/users?after=a&before=b", "/api/v1/users?q=pat&sort=name"] {
        let (status, body) = app.get(&mara, refused).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}: {body}");
    }
    let olivia = app.signed_in("olivia.operator@starship.example").await;
    let (_, body) = app.get(&olivia, "/api/v1/users?limit=200").await;
    assert!(emails(&body).iter().any(|e| e == "nina.north@northwind.example"), "operators list everyone");
});
