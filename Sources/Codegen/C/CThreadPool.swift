/// The worker threads of an emitted library: started at the first threaded call and kept for
/// the later ones, shared by the per-sample runtime (`lossc_run`) and the ranking runtime
/// (`lossc_rk_parallel`), each with its own prefix so both can live in one program.
///
/// Why a pool: starting a POSIX thread per call costs about 35 µs here, and the new thread
/// often began on the caller's core, so short calls (GIoU on 50,000 boxes: 70 µs of work) ran
/// slower on two threads than on one. Workers that stay, spin briefly after a job and then
/// sleep on a condition variable cost one wake-up per call, or none on back-to-back calls.
/// A worker joins a job only while it is open, and the caller closes it once every chunk is
/// taken (the runners share one chunk counter), so a worker the OS has not scheduled yet never
/// delays a call: a first version that waited for every worker took 6x one thread's time on
/// some short calls whose worker sat on the caller's core.
///
/// What a user can rely on (the C comments say the same):
/// - one caller uses the pool at a time; a concurrent caller starts threads for its own call,
///   as before, so two threads calling kernels at once both run in parallel and get the bits
///   of one thread;
/// - `fork()` while the pool exists: the child starts with no workers and makes its own
///   (the `pthread_atfork` handlers hold the pool's locks across the fork);
/// - unloading the library (`dlclose`) or exiting stops and joins the workers (a destructor).
/// The pool needs GCC or clang (atomics, the destructor attribute); elsewhere every threaded
/// call starts its threads, as before.
enum CThreadPool {
    /// Pause instructions a worker (or the caller, waiting for the workers) spins for before
    /// it sleeps: about 100 µs on the 2-core Zen VM (24 ns a pause), so back-to-back calls
    /// find the workers awake, and an idle library costs nothing after that.
    static let spins = 4096

    /// The pool's C for the runtime whose names start with `prefix` and whose threads exist
    /// where `threadsMacro` is defined: `PREFIX_pool_run(runner, parts, size, used)` runs
    /// `runner` on each of the `used` parts (`size` bytes apart), part 0 on the calling thread,
    /// and returns 0 without running anything when it cannot serve the call (no pool on this
    /// compiler, or another caller is using it).
    static func text(prefix: String, threadsMacro: String) -> String {
        let p = prefix, POOL = prefix.uppercased() + "_POOL"
        return """
        /* Worker threads kept between calls (see the comment on \(p)_pool_run). */
        #if defined(\(threadsMacro)) && defined(__GNUC__)
        #define \(POOL) 1
        #define \(POOL)_MAX 63
        #define \(POOL)_SPINS \(spins)
        struct \(p)_pool {
            pthread_mutex_t busy, lock;        /* busy: held by the caller using the pool */
            pthread_cond_t wake, done;
            pthread_t ids[\(POOL)_MAX];
            unsigned long born[\(POOL)_MAX];   /* the generation each worker starts after */
            size_t workers;                    /* started */
            unsigned long generation;          /* bumped by each job (atomic) */
            void *(*runner)(void *);
            char *parts;
            size_t size, count;                /* workers asked to join the job */
            size_t active;                     /* workers inside the job (atomic) */
            int closed;                        /* the caller is done: no worker may join */
            int stop;
        };
        static struct \(p)_pool \(p)_pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
            PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, { 0 }, 0, 0, NULL, NULL, 0, 0, 0, 0, 0 };
        static pthread_once_t \(p)_pool_once = PTHREAD_ONCE_INIT;

        static void \(p)_pool_pause(void)
        {
        #if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
        #elif defined(__aarch64__)
            __asm__ __volatile__("yield");
        #endif
        }

        /* Worker i runs part i + 1 of each job that asks for more than i workers, if it joins
           before the caller closes the job: a worker the OS has not run yet is not waited for
           (the caller takes the chunks it would have taken). */
        static void *\(p)_pool_worker(void *arg)
        {
            struct \(p)_pool *p = &\(p)_pool;
            const size_t index = (size_t)(uintptr_t)arg;
            unsigned long seen = p->born[index], now;
            int spin;
            for (;;) {
                for (spin = 0; spin < \(POOL)_SPINS && __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) == seen; spin++) \(p)_pool_pause();
                if ((now = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE)) == seen) {
                    pthread_mutex_lock(&p->lock);
                    while (!p->stop && (now = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE)) == seen) pthread_cond_wait(&p->wake, &p->lock);
                    pthread_mutex_unlock(&p->lock);
                }
                if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) break;
                seen = now;
                /* Join without the lock (a worker woken by the unlock would sleep on it): enter,
                   then check that the job is still open and still this one. Both sides use
                   sequentially consistent operations, so either this worker sees the caller's
                   close or the caller sees it inside. Inside, the fields are stable. */
                __atomic_add_fetch(&p->active, 1, __ATOMIC_SEQ_CST);
                if (!__atomic_load_n(&p->closed, __ATOMIC_SEQ_CST) && __atomic_load_n(&p->generation, __ATOMIC_SEQ_CST) == seen
                    && index < p->count) p->runner(p->parts + (index + 1) * p->size);
                pthread_mutex_lock(&p->lock);
                if (__atomic_sub_fetch(&p->active, 1, __ATOMIC_SEQ_CST) == 0) pthread_cond_signal(&p->done);
                pthread_mutex_unlock(&p->lock);
            }
            return NULL;
        }

        /* fork(): hold both locks across it (a call in progress finishes first); the child
           has none of the workers, so it starts with an empty pool and fresh condition
           variables (the old ones count waiters that do not exist there: glibc's broadcast
           would wait for them forever). */
        static void \(p)_pool_prepare(void) { pthread_mutex_lock(&\(p)_pool.busy); pthread_mutex_lock(&\(p)_pool.lock); }
        static void \(p)_pool_parent(void) { pthread_mutex_unlock(&\(p)_pool.lock); pthread_mutex_unlock(&\(p)_pool.busy); }
        static void \(p)_pool_child(void)
        {
            \(p)_pool.workers = 0;
            \(p)_pool.active = 0;
            pthread_cond_init(&\(p)_pool.wake, NULL);
            pthread_cond_init(&\(p)_pool.done, NULL);
            pthread_mutex_unlock(&\(p)_pool.lock);
            pthread_mutex_unlock(&\(p)_pool.busy);
        }
        static void \(p)_pool_init(void) { pthread_atfork(\(p)_pool_prepare, \(p)_pool_parent, \(p)_pool_child); }

        /* Unloading the library or exiting: stop the workers before their code goes away. */
        __attribute__((destructor)) static void \(p)_pool_stop(void)
        {
            struct \(p)_pool *p = &\(p)_pool;
            size_t i;
            pthread_mutex_lock(&p->lock);
            __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
            pthread_cond_broadcast(&p->wake);
            pthread_mutex_unlock(&p->lock);
            for (i = 0; i < p->workers; i++) pthread_join(p->ids[i], NULL);
            p->workers = 0;
        }

        /* Runs runner(part t) for the `used` parts, `size` bytes apart: part 0 on the calling
           thread, the others on the pool's workers (started as needed; parts whose worker could
           not start run on the caller). The runners take chunks from a shared counter, so when
           the caller's runs return every chunk is taken: it closes the job and waits only for
           the workers that joined it. Returns 0, running nothing, while another caller holds
           the pool. Workers spin about 100 µs after a job, then sleep. */
        static int \(p)_pool_run(void *(*runner)(void *), void *parts, size_t size, size_t used)
        {
            struct \(p)_pool *p = &\(p)_pool;
            size_t want = used - 1 < \(POOL)_MAX ? used - 1 : \(POOL)_MAX, t;
            int spin;
            pthread_once(&\(p)_pool_once, \(p)_pool_init);
            if (pthread_mutex_trylock(&p->busy) != 0) return 0;
            if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {  /* a call from a destructor or atexit handler after ours ran */
                pthread_mutex_unlock(&p->busy);
                return 0;
            }
            while (p->workers < want) {
                p->born[p->workers] = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
                if (pthread_create(&p->ids[p->workers], NULL, \(p)_pool_worker, (void *)(uintptr_t)p->workers) != 0) break;
                p->workers++;
            }
            want = want < p->workers ? want : p->workers;
            /* no worker is inside a job here (the last call waited for them), so the fields
               can change; the generation's release publishes them */
            p->runner = runner;
            p->parts = (char *)parts;
            p->size = size;
            p->count = want;
            __atomic_store_n(&p->closed, 0, __ATOMIC_SEQ_CST);
            __atomic_add_fetch(&p->generation, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_lock(&p->lock);
            pthread_cond_broadcast(&p->wake);
            pthread_mutex_unlock(&p->lock);
            for (t = 0; t < used; t++) if (t == 0 || t > want) runner((char *)parts + t * size);
            __atomic_store_n(&p->closed, 1, __ATOMIC_SEQ_CST);
            for (spin = 0; spin < \(POOL)_SPINS && __atomic_load_n(&p->active, __ATOMIC_SEQ_CST) != 0; spin++) \(p)_pool_pause();
            pthread_mutex_lock(&p->lock);
            while (__atomic_load_n(&p->active, __ATOMIC_SEQ_CST) != 0) pthread_cond_wait(&p->done, &p->lock);
            pthread_mutex_unlock(&p->lock);
            pthread_mutex_unlock(&p->busy);
            return 1;
        }
        #else
        static inline int \(p)_pool_run(void *(*runner)(void *), void *parts, size_t size, size_t used)
        {
            (void)runner; (void)parts; (void)size; (void)used;
            return 0;
        }
        #endif


        """
    }
}
