/*
 * test_async_threads.c -- the threading rule of coap_async.h under load:
 * the loop thread registers asyncs and hands them to worker threads, which
 * set app data and call coap_async_trigger() / coap_async_set_delay()
 * while the loop runs coap_io_process(). 10,000 requests from several
 * client sockets must each get exactly one answer. Built and run under
 * ThreadSanitizer by the test command as well.
 */
#include <pthread.h>

#include "test.h"

#include "context.h"
#include "session.h"
#include "udp_client.h"

#define REQUESTS 10000
#define CLIENTS 10
#define WINDOW 16 /* requests in flight per client socket (NON: a burst
                     * past the socket buffers would be lost, not retried) */
#define WORKERS 4

static coap_context_t *ctx;
static uint16_t port;
static int stop_flag;

/* ---- work queue: loop thread -> workers ---------------------------------- */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static coap_async_t *queue[REQUESTS];
static size_t q_head, q_tail;
static int q_closed;

static void enqueue(coap_async_t *a) {
  pthread_mutex_lock(&q_lock);
  queue[q_tail++ % REQUESTS] = a;
  pthread_cond_signal(&q_cond);
  pthread_mutex_unlock(&q_lock);
}

static coap_async_t *dequeue(void) {
  pthread_mutex_lock(&q_lock);
  while (q_head == q_tail && !q_closed)
    pthread_cond_wait(&q_cond, &q_lock);
  coap_async_t *a = q_head == q_tail ? NULL : queue[q_head++ % REQUESTS];
  pthread_mutex_unlock(&q_lock);
  return a;
}

static int answer_value = 42;

static void *worker(void *arg) {
  (void)arg;
  coap_async_t *a;
  unsigned n = 0;
  while ((a = dequeue()) != NULL) {
    coap_async_set_app_data(a, &answer_value);
    if (n++ & 1)
      coap_async_trigger(a);
    else
      coap_async_set_delay(a, 1);
  }
  return NULL;
}

/* ---- the resource ------------------------------------------------------- */

static int handler_runs;
static int bad_app_data;

static void hnd_work(coap_resource_t *r, coap_session_t *s,
                     const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)r, (void)q;
  handler_runs++;
  coap_async_t *a = coap_find_async(s, coap_pdu_get_token(req));
  if (!a) {
    a = coap_register_async(s, req, 0);
    if (!a) {
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
      return;
    }
    enqueue(a); /* handed over: a worker completes it */
    return;
  }
  if (coap_async_get_app_data(a) != &answer_value)
    bad_app_data++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 2, (const uint8_t *)"ok");
}

static void *run_loop(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE))
    coap_io_process(ctx, 50);
  return NULL;
}

/* ---- the clients ---------------------------------------------------------- */

/* Sends NON GET /work with a 4-byte token = the request number. */
static void send_request(udp_client *c, uint32_t n) {
  uint8_t m[16] = {0x54, COAP_REQUEST_CODE_GET, (uint8_t)(n >> 8),
                   (uint8_t)n, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
                   (uint8_t)(n >> 8), (uint8_t)n, 0xb4, 'w', 'o', 'r', 'k'};
  udp_send(c, m, 13);
}

static uint8_t answered[REQUESTS];

TEST(ten_thousand_asyncs_completed_by_worker_threads) {
  coap_address_t addr;
  coap_address_init(&addr);
  addr.addr.sin.sin_family = AF_INET;
  addr.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.size = sizeof(addr.addr.sin);
  ctx = coap_new_context(&addr);
  CHECK_NOT_NULL(ctx);
  port = coap_address_get_port(&ctx->endpoints->bind_addr);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("work"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_work);
  coap_add_resource(ctx, r);

  pthread_t loop, workers[WORKERS];
  pthread_create(&loop, NULL, run_loop, NULL);
  for (int i = 0; i < WORKERS; i++)
    pthread_create(&workers[i], NULL, worker, NULL);

  udp_client c[CLIENTS];
  uint32_t next[CLIENTS], done[CLIENTS];
  for (int i = 0; i < CLIENTS; i++) {
    c[i] = udp_client_open(port);
    next[i] = (uint32_t)i;
    done[i] = 0;
  }
  int total = 0, dup = 0, wrong = 0;
  double t0 = udp_now_ms();
  /* each client keeps WINDOW requests in flight */
  for (int i = 0; i < CLIENTS; i++)
    for (int w = 0; w < WINDOW && next[i] < REQUESTS; w++, next[i] += CLIENTS)
      send_request(&c[i], next[i]);
  while (total < REQUESTS && udp_now_ms() - t0 < 10000) {
    int progressed = 0;
    for (int i = 0; i < CLIENTS; i++) {
      uint8_t buf[64];
      ssize_t n;
      while ((n = udp_recv(&c[i], buf, sizeof(buf), 0)) > 0) {
        progressed = 1;
        uint32_t id = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
                      (uint32_t)buf[6] << 8 | buf[7];
        if (n < 8 || buf[1] != COAP_RESPONSE_CODE_CONTENT || id >= REQUESTS) {
          wrong++;
          continue;
        }
        if (answered[id]++) {
          dup++;
          continue;
        }
        total++;
        done[i]++;
        if (next[i] < REQUESTS) {
          send_request(&c[i], next[i]);
          next[i] += CLIENTS;
        }
      }
    }
    if (!progressed)
      usleep(200);
  }
  __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
  pthread_mutex_lock(&q_lock);
  q_closed = 1;
  pthread_cond_broadcast(&q_cond);
  pthread_mutex_unlock(&q_lock);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(workers[i], NULL);
  pthread_join(loop, NULL);
  for (int i = 0; i < CLIENTS; i++)
    udp_client_close(&c[i]);
  size_t left = ctx->async_count;
  if (total != REQUESTS)
    fprintf(stderr, "answered %d, handler runs %d, pending %zu, queued %zu/%zu\n",
            total, handler_runs, left, q_head, q_tail);
  coap_free_context(ctx);
  CHECK_INT_EQ(total, REQUESTS);
  CHECK_INT_EQ(dup, 0);
  CHECK_INT_EQ(wrong, 0);
  CHECK_INT_EQ(bad_app_data, 0);
  CHECK_INT_EQ(handler_runs, 2 * REQUESTS);
  CHECK_UINT_EQ(left, 0);
}

int main(void) {
  coap_startup();
  RUN(ten_thousand_asyncs_completed_by_worker_threads);
  return TEST_SUMMARY();
}
