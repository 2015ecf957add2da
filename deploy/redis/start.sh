#!/bin/sh
# Starts a Redis server or a Sentinel of the Compose stack: `start.sh master`, `start.sh
# replica` or `start.sh sentinel`. The configuration is copied from the templates next to
# this script into /data once, then left to Redis and Sentinel, which rewrite it after a
# failover. The password comes from REDIS_PASSWORD, never from a file in the repository.
set -eu
: "${REDIS_PASSWORD:?is not set}"
name=$(hostname)

case "$1" in
    master|replica)
        if [ ! -f /data/redis.conf ]; then
            cp /etc/teranga/redis.conf /data/redis.conf
            {
                echo "replica-announce-ip $name"
                echo "requirepass $REDIS_PASSWORD"
                echo "masterauth $REDIS_PASSWORD"
                if [ "$1" = replica ]; then echo "replicaof redis-master 6379"; fi
            } >> /data/redis.conf
        fi
        exec redis-server /data/redis.conf
        ;;
    sentinel)
        if [ ! -f /data/sentinel.conf ]; then
            cp /etc/teranga/sentinel.conf /data/sentinel.conf
            {
                echo "sentinel auth-pass teranga $REDIS_PASSWORD"
                echo "sentinel announce-ip $name"
            } >> /data/sentinel.conf
        fi
        exec redis-sentinel /data/sentinel.conf
        ;;
    *)
        echo "usage: start.sh master|replica|sentinel" >&2
        exit 64
        ;;
esac
