//! Diesel table definitions shared by the SQLite and PostgreSQL backends.

diesel::table! {
    accounts (id) {
        id -> BigInt,
        kind -> Text,
        username -> Text,
        domain -> Nullable<Text>,
        actor_url -> Text,
        inbox_url -> Text,
        shared_inbox_url -> Nullable<Text>,
        outbox_url -> Nullable<Text>,
        followers_url -> Nullable<Text>,
        following_url -> Nullable<Text>,
        profile_url -> Nullable<Text>,
        public_key_pem -> Text,
        private_key_pem -> Nullable<Text>,
        display_name -> Nullable<Text>,
        summary -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        manually_approves_followers -> Bool,
        owner_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        key_id -> Nullable<Text>,
        fetched_at -> Nullable<Timestamp>,
        password_hash -> Nullable<Text>,
        site_url -> Nullable<Text>,
        suspended_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        header_url -> Nullable<Text>,
    }
}

diesel::table! {
    tokens (id) {
        id -> BigInt,
        account_id -> BigInt,
        token_hash -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        client_id -> Nullable<Text>,
        grant_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    objects (id) {
        id -> BigInt,
        ap_id -> Text,
        kind -> Text,
        author_id -> BigInt,
        content -> Nullable<Text>,
        summary -> Nullable<Text>,
        name -> Nullable<Text>,
        in_reply_to -> Nullable<Text>,
        context -> Nullable<Text>,
        url -> Nullable<Text>,
        visibility -> Text,
        addressed_to -> Text,
        document -> Text,
        local -> Bool,
        published -> Timestamp,
        updated -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    activities (id) {
        id -> BigInt,
        ap_id -> Text,
        kind -> Text,
        actor_id -> BigInt,
        object_ap_id -> Nullable<Text>,
        visibility -> Text,
        addressed_to -> Text,
        document -> Text,
        local -> Bool,
        published -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    follows (id) {
        id -> BigInt,
        follower_id -> BigInt,
        followee_id -> BigInt,
        follow_ap_id -> Text,
        accepted -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reactions (id) {
        id -> BigInt,
        ap_id -> Text,
        kind -> Text,
        actor_id -> BigInt,
        object_ap_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blocks (id) {
        id -> BigInt,
        ap_id -> Text,
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    inbox_items (id) {
        id -> BigInt,
        account_id -> BigInt,
        activity_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        dedup_key -> Nullable<Text>,
        payload -> Text,
        host -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        run_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        crashes -> Integer,
        lease_holder -> Nullable<Text>,
    }
}

diesel::table! {
    cache_generation (id) {
        id -> Integer,
        generation -> BigInt,
    }
}

diesel::table! {
    health_checks (id) {
        id -> Integer,
        checked_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        subject -> Text,
        failed_at -> Timestamp,
    }
}

diesel::joinable!(tokens -> accounts (account_id));
diesel::joinable!(objects -> accounts (author_id));
diesel::joinable!(activities -> accounts (actor_id));
diesel::joinable!(inbox_items -> activities (activity_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    tokens,
    objects,
    activities,
    follows,
    reactions,
    blocks,
    inbox_items,
    jobs,
    health_checks,
    login_failures,
    oauth_clients,
    oauth_grants,
    webmentions,
    private_pages,
    site_grants,
    websub_subscriptions,
    media,
    domain_blocks,
    reports,
    mastodon_idempotency,
    mastodon_conversation_marks,
    mastodon_dismissals,
);

diesel::table! {
    oauth_clients (id) {
        id -> BigInt,
        client_id -> Text,
        secret_hash -> Nullable<Text>,
        name -> Text,
        redirect_uris -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> BigInt,
        consent_hash -> Text,
        code_hash -> Nullable<Text>,
        client_id -> Text,
        account_id -> BigInt,
        redirect_uri -> Text,
        scopes -> Text,
        state -> Nullable<Text>,
        code_challenge -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        approved_at -> Nullable<Timestamp>,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webmentions (id) {
        id -> BigInt,
        token -> Text,
        source -> Text,
        target -> Text,
        source_host -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        object_ap_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        code -> Nullable<Text>,
        realm -> Nullable<Text>,
    }
}

diesel::table! {
    private_pages (id) {
        id -> BigInt,
        page_key -> Text,
        object_ap_id -> Text,
        activity_ap_id -> Text,
        proxy_id -> BigInt,
        sender_id -> BigInt,
        site_url -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    site_grants (id) {
        id -> BigInt,
        code_hash -> Text,
        code_expires_at -> Timestamp,
        redeemed_at -> Nullable<Timestamp>,
        token_hash -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        site_url -> Text,
        page_id -> Nullable<BigInt>,
        feed_account_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    websub_subscriptions (id) {
        id -> BigInt,
        room_id -> BigInt,
        topic -> Text,
        callback -> Text,
        secret -> Nullable<Text>,
        lease_expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    media (id) {
        id -> BigInt,
        token -> Text,
        account_id -> BigInt,
        content_type -> Text,
        bytes -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    domain_blocks (id) {
        id -> BigInt,
        domain -> Text,
        severity -> Text,
        reject_media -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        ap_id -> Text,
        reporter_id -> BigInt,
        targets -> Text,
        content -> Nullable<Text>,
        document -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mastodon_idempotency (id) {
        id -> BigInt,
        account_id -> BigInt,
        key -> Text,
        object_ap_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mastodon_conversation_marks (id) {
        id -> BigInt,
        account_id -> BigInt,
        context -> Text,
        read_up_to -> BigInt,
        hidden_up_to -> BigInt,
    }
}

diesel::table! {
    mastodon_dismissals (id) {
        id -> BigInt,
        account_id -> BigInt,
        inbox_item_id -> BigInt,
    }
}
