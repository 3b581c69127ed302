"""Typecho 1.x databases for the importer's tests and benchmark, in MariaDB or SQLite.

The DDL is Typecho's own install SQL (install/Mysql.sql and install/SQLite.sql of
typecho/typecho), with the ``metas.parent`` column Typecho 1.0 added and, optionally, the
``contents.views`` column a views plugin adds.
"""

import sqlite3
import uuid
from contextlib import closing, suppress

import pymysql

MYSQL_HOST, MYSQL_PORT, MYSQL_USER = "127.0.0.1", 3306, "root"

MYSQL_DDL = """
CREATE TABLE `{p}comments` (
  `coid` int(10) unsigned NOT NULL auto_increment,
  `cid` int(10) unsigned default '0',
  `created` int(10) unsigned default '0',
  `author` varchar(200) default NULL,
  `authorId` int(10) unsigned default '0',
  `ownerId` int(10) unsigned default '0',
  `mail` varchar(200) default NULL,
  `url` varchar(200) default NULL,
  `ip` varchar(64) default NULL,
  `agent` varchar(200) default NULL,
  `text` text,
  `type` varchar(16) default 'comment',
  `status` varchar(16) default 'approved',
  `parent` int(10) unsigned default '0',
  PRIMARY KEY  (`coid`),
  KEY `cid` (`cid`),
  KEY `created` (`created`)
) ENGINE=MyISAM  DEFAULT CHARSET={charset};

CREATE TABLE `{p}contents` (
  `cid` int(10) unsigned NOT NULL auto_increment,
  `title` varchar(200) default NULL,
  `slug` varchar(200) default NULL,
  `created` int(10) unsigned default '0',
  `modified` int(10) unsigned default '0',
  `text` text,
  `order` int(10) unsigned default '0',
  `authorId` int(10) unsigned default '0',
  `template` varchar(32) default NULL,
  `type` varchar(16) default 'post',
  `status` varchar(16) default 'publish',
  `password` varchar(32) default NULL,
  `commentsNum` int(10) unsigned default '0',
  `allowComment` char(1) default '0',
  `allowPing` char(1) default '0',
  `allowFeed` char(1) default '0',
  `parent` int(10) unsigned default '0',
  PRIMARY KEY  (`cid`),
  UNIQUE KEY `slug` (`slug`),
  KEY `created` (`created`)
) ENGINE=MyISAM  DEFAULT CHARSET={charset};

CREATE TABLE `{p}metas` (
  `mid` int(10) unsigned NOT NULL auto_increment,
  `name` varchar(200) default NULL,
  `slug` varchar(200) default NULL,
  `type` varchar(32) NOT NULL,
  `description` varchar(200) default NULL,
  `count` int(10) unsigned default '0',
  `order` int(10) unsigned default '0',
  `parent` int(10) unsigned default '0',
  PRIMARY KEY  (`mid`),
  KEY `slug` (`slug`)
) ENGINE=MyISAM  DEFAULT CHARSET={charset};

CREATE TABLE `{p}options` (
  `name` varchar(32) NOT NULL,
  `user` int(10) unsigned NOT NULL default '0',
  `value` text,
  PRIMARY KEY  (`name`,`user`)
) ENGINE=MyISAM DEFAULT CHARSET={charset};

CREATE TABLE `{p}relationships` (
  `cid` int(10) unsigned NOT NULL,
  `mid` int(10) unsigned NOT NULL,
  PRIMARY KEY  (`cid`,`mid`)
) ENGINE=MyISAM DEFAULT CHARSET={charset};

CREATE TABLE `{p}users` (
  `uid` int(10) unsigned NOT NULL auto_increment,
  `name` varchar(32) default NULL,
  `password` varchar(64) default NULL,
  `mail` varchar(200) default NULL,
  `url` varchar(200) default NULL,
  `screenName` varchar(32) default NULL,
  `created` int(10) unsigned default '0',
  `activated` int(10) unsigned default '0',
  `logged` int(10) unsigned default '0',
  `group` varchar(16) default 'visitor',
  `authCode` varchar(64) default NULL,
  PRIMARY KEY  (`uid`),
  UNIQUE KEY `name` (`name`),
  UNIQUE KEY `mail` (`mail`)
) ENGINE=MyISAM  DEFAULT CHARSET={charset};
"""

SQLITE_DDL = """
CREATE TABLE {p}comments ( "coid" INTEGER NOT NULL PRIMARY KEY,
"cid" int(10) default '0' ,
"created" int(10) default '0' ,
"author" varchar(200) default NULL ,
"authorId" int(10) default '0' ,
"ownerId" int(10) default '0' ,
"mail" varchar(200) default NULL ,
"url" varchar(200) default NULL ,
"ip" varchar(64) default NULL ,
"agent" varchar(200) default NULL ,
"text" text ,
"type" varchar(16) default 'comment' ,
"status" varchar(16) default 'approved' ,
"parent" int(10) default '0' );

CREATE INDEX {p}comments_cid ON {p}comments ("cid");
CREATE INDEX {p}comments_created ON {p}comments ("created");

CREATE TABLE {p}contents ( "cid" INTEGER NOT NULL PRIMARY KEY,
"title" varchar(200) default NULL ,
"slug" varchar(200) default NULL ,
"created" int(10) default '0' ,
"modified" int(10) default '0' ,
"text" text ,
"order" int(10) default '0' ,
"authorId" int(10) default '0' ,
"template" varchar(32) default NULL ,
"type" varchar(16) default 'post' ,
"status" varchar(16) default 'publish' ,
"password" varchar(32) default NULL ,
"commentsNum" int(10) default '0' ,
"allowComment" char(1) default '0' ,
"allowPing" char(1) default '0' ,
"allowFeed" char(1) default '0' ,
"parent" int(10) default '0' );

CREATE UNIQUE INDEX {p}contents_slug ON {p}contents ("slug");
CREATE INDEX {p}contents_created ON {p}contents ("created");

CREATE TABLE {p}metas ( "mid" INTEGER NOT NULL PRIMARY KEY,
"name" varchar(200) default NULL ,
"slug" varchar(200) default NULL ,
"type" varchar(32) NOT NULL ,
"description" varchar(200) default NULL ,
"count" int(10) default '0' ,
"order" int(10) default '0' ,
"parent" int(10) default '0');

CREATE INDEX {p}metas_slug ON {p}metas ("slug");

CREATE TABLE {p}options ( "name" varchar(32) NOT NULL ,
"user" int(10) NOT NULL default '0' ,
"value" text );

CREATE UNIQUE INDEX {p}options_name_user ON {p}options ("name", "user");

CREATE TABLE {p}relationships ( "cid" int(10) NOT NULL ,
"mid" int(10) NOT NULL );

CREATE UNIQUE INDEX {p}relationships_cid_mid ON {p}relationships ("cid", "mid");

CREATE TABLE {p}users ( "uid" INTEGER NOT NULL PRIMARY KEY,
"name" varchar(32) default NULL ,
"password" varchar(64) default NULL ,
"mail" varchar(200) default NULL ,
"url" varchar(200) default NULL ,
"screenName" varchar(32) default NULL ,
"created" int(10) default '0' ,
"activated" int(10) default '0' ,
"logged" int(10) default '0' ,
"group" varchar(16) default 'visitor' ,
"authCode" varchar(64) default NULL);

CREATE UNIQUE INDEX {p}users_name ON {p}users ("name");
CREATE UNIQUE INDEX {p}users_mail ON {p}users ("mail");
"""


class TypechoDB:
    """A Typecho database being written: ``insert(table, rows)`` then ``url`` for the importer.

    Rows are dicts of column to value; ``bytes`` values are stored as they are (legacy text).
    """

    def __init__(self, engine: str, *, prefix="typecho_", views=True, charset="utf8mb4", path=None):
        self.engine, self.prefix = engine, prefix
        if engine == "mariadb":
            self.name = f"typecho_test_{uuid.uuid4().hex[:12]}"
            with _server() as server, server.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET {charset}")
            self.url = f"mysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}/{self.name}"
        else:
            self.url = f"sqlite:///{path}"
        try:
            self._create_tables(path, charset, views)
        except BaseException:
            self.drop()
            raise

    def _create_tables(self, path, charset, views):
        if self.engine == "mariadb":
            self.connection = pymysql.connect(
                host=MYSQL_HOST,
                port=MYSQL_PORT,
                user=MYSQL_USER,
                database=self.name,
                charset="utf8mb4",
                autocommit=True,
            )
            with self.connection.cursor() as cursor:
                for statement in MYSQL_DDL.format(p=self.prefix, charset=charset).split(";\n"):
                    if statement.strip():
                        cursor.execute(statement)
        else:
            self.connection = sqlite3.connect(path, isolation_level=None)
            self.connection.executescript(SQLITE_DDL.format(p=self.prefix))
        if views:
            self.execute(f"ALTER TABLE {self.prefix}contents ADD COLUMN views int(10) default '0'")

    def execute(self, sql: str, params=()):
        if self.engine == "mariadb":
            with self.connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
        else:
            self.connection.execute(sql, params)

    def insert(self, table: str, rows: list[dict]) -> None:
        """Multi-row INSERTs (fast for the benchmark's hundreds of thousands of rows), one per
        500 rows with the same columns."""
        by_columns = {}
        for row in rows:
            by_columns.setdefault(tuple(row), []).append(row)
        for columns, group in by_columns.items():
            self._insert(table, list(columns), group)

    def _insert(self, table: str, columns: list[str], rows: list[dict]) -> None:
        placeholders = "(" + ", ".join("?" * len(columns)) + ")"
        names = ", ".join(f"`{column}`" for column in columns)
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            values = [row[column] for row in chunk for column in columns]
            self.execute(
                f"INSERT INTO `{self.prefix}{table}` ({names}) VALUES "
                + ", ".join([placeholders] * len(chunk)),
                values,
            )

    def drop(self) -> None:
        if self.engine == "mariadb":
            with suppress(pymysql.Error), _server() as server, server.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
        if connection := getattr(self, "connection", None):
            connection.close()


def _server():
    return closing(pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER))
