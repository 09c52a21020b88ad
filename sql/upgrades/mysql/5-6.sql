-- Schema 5 -> 6: the official list of sites, renames and merges.
-- MySQL commits each CREATE TABLE: an interrupted upgrade fails on the first
-- one that exists when run again; finish the rest by hand.

-- The sites the officer expects, each import of the list, renames and
-- merges, and the names they made aliases (see sqlite.sql).
CREATE TABLE sites (
    name VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci PRIMARY KEY,
    status VARCHAR(8) NOT NULL,
    tier TINYINT UNSIGNED NULL,
    country VARCHAR(100) NULL,
    gocdb VARCHAR(100) NULL COLLATE utf8mb4_general_ci,
    state VARCHAR(100) NULL,
    source VARCHAR(255) NOT NULL,
    since BIGINT NOT NULL,
    changed BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE site_lists (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    imported BIGINT NOT NULL,
    source VARCHAR(255) NOT NULL,
    format VARCHAR(8) NOT NULL,
    sites INT NOT NULL,
    added INT NOT NULL,
    retired INT NOT NULL,
    imported_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE site_renames (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    done BIGINT NOT NULL,
    kind VARCHAR(8) NOT NULL,
    old_name VARCHAR(100) NOT NULL,
    new_name VARCHAR(100) NOT NULL,
    hosts INT NOT NULL,
    merged INT NOT NULL,
    reports BIGINT NOT NULL,
    intervals BIGINT NOT NULL,
    done_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE site_aliases (
    alias VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci PRIMARY KEY,
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    rename_id INT UNSIGNED NOT NULL,
    KEY site_aliases_site (site)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

UPDATE schema_version SET version = 6;
