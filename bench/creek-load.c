/*
 * creek-load: a librdkafka load generator for Creek's benchmark (scripts/bench.py).
 *
 *   creek-load mock TOPIC:PARTITIONS...          start librdkafka's in-memory mock broker,
 *                                                print its bootstrap address, run until stdin closes
 *   creek-load create BOOTSTRAP TOPIC PARTITIONS  create a topic (CreateTopics)
 *   creek-load produce BOOTSTRAP TOPIC PARTITIONS COUNT SIZE [ACKS]   (acks: all (default), 1, 0)
 *   creek-load consume BOOTSTRAP TOPIC PARTITIONS COUNT
 *   creek-load replay BOOTSTRAP TOPIC PARTITIONS PER_PARTITION COUNT   (re-read a small log)
 *   creek-load latency BOOTSTRAP TOPIC RATE SECONDS
 *
 * produce/consume print "msgs=N seconds=S msgs_per_sec=R mb_per_sec=M";
 * latency prints "p50_ms=.. p99_ms=.. samples=N". All loops are bounded by counts or time.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "creek-load: %s: %s\n", what, detail);
    exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) die(name, err);
}

/* CREEK_LOAD_CONFIG="name=value;name=value" adds librdkafka settings to every client (for
   example security.protocol=SSL;ssl.ca.location=ca.pem for the TLS benchmark). */
static void extra_config(rd_kafka_conf_t *conf) {
    const char *spec = getenv("CREEK_LOAD_CONFIG");
    if (!spec) return;
    char copy[4096];
    if (strlen(spec) >= sizeof copy) die("CREEK_LOAD_CONFIG", "too long");
    strcpy(copy, spec);
    for (char *entry = strtok(copy, ";"); entry; entry = strtok(NULL, ";")) {
        char *equals = strchr(entry, '=');
        if (!equals) die("CREEK_LOAD_CONFIG", entry);
        *equals = 0;
        set(conf, entry, equals + 1);
    }
}

static long delivered_ok, delivered_failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    if (m->err) {
        if (delivered_failed++ < 5) fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else {
        delivered_ok++;
    }
}

/* With CREEK_LOAD_STATS=FILE, librdkafka's statistics JSON is written to FILE every 200 ms
   (the last one survives): request counts and batch sizes, to compare how the client batches
   against each broker. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk; (void)opaque;
    const char *path = getenv("CREEK_LOAD_STATS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fwrite(json, 1, len, f);
        fclose(f);
    }
    return 0;
}

static void enable_stats(rd_kafka_conf_t *conf) {
    if (!getenv("CREEK_LOAD_STATS")) return;
    set(conf, "statistics.interval.ms", "200");
    rd_kafka_conf_set_stats_cb(conf, on_stats);
}

static rd_kafka_t *make_producer(const char *bootstrap, const char *linger, const char *acks) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    enable_stats(conf);
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "linger.ms", linger);
    set(conf, "acks", acks);
    set(conf, "queue.buffering.max.messages", "1000000");
    extra_config(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die("producer", err);
    return rk;
}

static rd_kafka_t *make_consumer(const char *bootstrap, const char *topic, int partitions, const char *wait_ms) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "fetch.wait.max.ms", wait_ms);
    set(conf, "bootstrap.servers", bootstrap);
    extra_config(conf);
    set(conf, "group.id", "creek-load");
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.partition.eof", "false");
    /* librdkafka stops fetching a partition while queued.min.messages (100,000) are queued
       locally, and fetches it again only after fetch.queue.backoff.ms (1000 ms; librdkafka
       2.0 waits for its broker thread's next wakeup, also about a second). A broker that
       answers faster than the application drains the queue reaches that limit and then idles
       most of each second: with these defaults a 100-byte consumer of the 2.16 client reads
       0.28 M msgs/s from Creek and 3.2 M from Tansu, which answers more slowly
       (docs/benchmarks.md, sixth pass). A deeper queue and a 20 ms backoff (where the
       property exists) take the client's stall out of the comparison, for every target alike. */
    set(conf, "queued.min.messages", "1000000");
    (void)rd_kafka_conf_set(conf, "fetch.queue.backoff.ms", "20", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) die("consumer", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(rk, list)) die("assign", topic);
    rd_kafka_topic_partition_list_destroy(list);
    return rk;
}

static int run_mock(int argc, char **argv) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die("mock handle", err);
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, 1);
    if (!cluster) die("mock", "could not start the mock cluster");
    for (int i = 0; i < argc; i++) {
        char name[256];
        int partitions = 1;
        const char *colon = strchr(argv[i], ':');
        size_t len = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
        if (len >= sizeof name) die("topic", argv[i]);
        memcpy(name, argv[i], len);
        name[len] = 0;
        if (colon) partitions = atoi(colon + 1);
        if (rd_kafka_mock_topic_create(cluster, name, partitions, 1)) die("mock topic", name);
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);
    char buffer[64];
    while (fgets(buffer, sizeof buffer, stdin) != NULL) {
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 0;
}

static int run_create(const char *bootstrap, const char *topic, int partitions) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    extra_config(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die("admin", err);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    if (!nt) die("new topic", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (!ev) die("create", "timed out");
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t n;
    const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) die("create", rd_kafka_err2str(e));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

static int run_produce(const char *bootstrap, const char *topic, int partitions, long count, int size,
                       const char *acks) {
    rd_kafka_t *rk = make_producer(bootstrap, "5", acks);
    char *payload = malloc(size);
    for (int i = 0; i < size; i++) payload[i] = 'a' + i % 26;
    /* Warm up: metadata and connections, not timed. */
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, size),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(rk, 30000);
    delivered_ok = delivered_failed = 0;
    double start = now_seconds();
    for (long i = 0; i < count; i++) {
        for (int attempt = 0;; attempt++) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)(i % partitions)),
                RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt > 100000) die("produce", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 1);
        }
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double seconds = now_seconds() - start;
    printf("msgs=%ld failed=%ld seconds=%.3f msgs_per_sec=%.0f mb_per_sec=%.2f\n", delivered_ok, delivered_failed,
           seconds, delivered_ok / seconds, delivered_ok * (double)size / seconds / 1e6);
    free(payload);
    rd_kafka_destroy(rk);
    return delivered_failed ? 1 : 0;
}

static int run_consume(const char *bootstrap, const char *topic, int partitions, long count) {
    rd_kafka_t *rk = make_consumer(bootstrap, topic, partitions, "500");
    long received = 0;
    long bytes = 0;
    /* Bounded: stop after COUNT messages or 15 seconds, whichever comes first. */
    double start = 0, deadline = now_seconds() + 15;
    while (received < count && now_seconds() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) {
            if (received == 0) start = now_seconds();
            received++;
            bytes += m->len;
        }
        rd_kafka_message_destroy(m);
    }
    double seconds = now_seconds() - start;
    printf("msgs=%ld seconds=%.3f msgs_per_sec=%.0f mb_per_sec=%.2f complete=%d\n", received, seconds,
           received / seconds, bytes / seconds / 1e6, received == count);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

/* Reads each partition's PER_PARTITION records from the start, seeks it back to offset 0 at
   its end, and repeats until COUNT records are read: a consumer of a log's hot tail, sized to
   fit what librdkafka's mock broker retains (at most 5 MiB and 100,000 records a partition). */
static int run_replay(const char *bootstrap, const char *topic, int partitions, long per_partition, long count) {
    rd_kafka_t *rk = make_consumer(bootstrap, topic, partitions, "5"); /* each lap's end waits this long */
    long received = 0, bytes = 0, laps = 0;
    double start = 0, deadline = now_seconds() + 30;
    while (received < count && now_seconds() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) {
            if (received == 0) start = now_seconds();
            received++;
            bytes += m->len;
            if (m->offset == per_partition - 1) {
                rd_kafka_topic_partition_list_t *back = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(back, topic, m->partition)->offset = 0;
                rd_kafka_error_t *error = rd_kafka_seek_partitions(rk, back, 5000);
                if (error) die("seek", rd_kafka_error_string(error));
                rd_kafka_topic_partition_list_destroy(back);
                laps++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    double seconds = now_seconds() - start;
    printf("msgs=%ld seconds=%.3f msgs_per_sec=%.0f mb_per_sec=%.2f laps=%ld complete=%d\n", received, seconds,
           received / seconds, bytes / seconds / 1e6, laps, received >= count);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

struct latency_state {
    const char *bootstrap, *topic;
    long expected;
    int64_t *samples;
    long received;
    volatile int ready;
};

static void *latency_consumer(void *arg) {
    struct latency_state *s = arg;
    rd_kafka_t *rk = make_consumer(s->bootstrap, s->topic, 1, "500");
    double deadline = now_seconds() + 60;
    while (s->received < s->expected && now_seconds() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        s->ready = 1;
        if (!m) continue;
        if (!m->err && m->len >= 8) {
            int64_t sent;
            memcpy(&sent, m->payload, 8);
            if (sent > 0) s->samples[s->received++] = now_ns() - sent;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int run_latency(const char *bootstrap, const char *topic, int rate, int seconds) {
    long total = (long)rate * seconds;
    struct latency_state s = {bootstrap, topic, total, calloc(total, sizeof(int64_t)), 0, 0};
    rd_kafka_t *rk = make_producer(bootstrap, "1", "all");
    char payload[100] = {0};
    int64_t zero = 0;
    memcpy(payload, &zero, 8);
    /* Create the partition's first record (offset 0, not measured) and connect. */
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, 100),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(rk, 30000);
    pthread_t thread;
    pthread_create(&thread, NULL, latency_consumer, &s);
    while (!s.ready) usleep(1000);
    usleep(500000);
    double start = now_seconds();
    for (long i = 0; i < total; i++) {
        double due = start + (double)i / rate;
        while (now_seconds() < due) {
            rd_kafka_poll(rk, 0);
            usleep(50);
        }
        int64_t sent = now_ns();
        memcpy(payload, &sent, 8);
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, 100),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    rd_kafka_flush(rk, 30000);
    pthread_join(thread, NULL);
    qsort(s.samples, s.received, sizeof(int64_t), compare);
    double p50 = s.received ? s.samples[s.received / 2] / 1e6 : -1;
    double p99 = s.received ? s.samples[(long)(s.received * 0.99)] / 1e6 : -1;
    printf("p50_ms=%.2f p99_ms=%.2f samples=%ld\n", p50, p99, s.received);
    free(s.samples);
    rd_kafka_destroy(rk);
    return s.received == total ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "mock")) return run_mock(argc - 2, argv + 2);
    if (argc == 5 && !strcmp(argv[1], "create")) return run_create(argv[2], argv[3], atoi(argv[4]));
    if ((argc == 7 || argc == 8) && !strcmp(argv[1], "produce"))
        return run_produce(argv[2], argv[3], atoi(argv[4]), atol(argv[5]), atoi(argv[6]), argc == 8 ? argv[7] : "all");
    if (argc == 6 && !strcmp(argv[1], "consume")) return run_consume(argv[2], argv[3], atoi(argv[4]), atol(argv[5]));
    if (argc == 7 && !strcmp(argv[1], "replay"))
        return run_replay(argv[2], argv[3], atoi(argv[4]), atol(argv[5]), atol(argv[6]));
    if (argc == 6 && !strcmp(argv[1], "latency")) return run_latency(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "usage: see the comment at the top of bench/creek-load.c\n");
    return 2;
}
