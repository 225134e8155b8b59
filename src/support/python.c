/* Reading CPython's frames for lockrace's stacks (python.h). Support layer.
 *
 * The interpreter's exported C API is used, found with dlsym, so one
 * lockrace serves every CPython from 3.9 on, shared or static, without
 * its headers; the one exception, where a lock is taken in Python code,
 * reads three of its structures' fields, checked against the API first
 * (lr_python_position). It is called only on a thread that holds the GIL (the
 * frames are then this thread's to read), never in a signal handler (a C
 * stack with a signal frame), never while the interpreter starts or ends.
 * Reading materialises frame objects (PyThreadState_GetFrame and
 * PyFrame_GetBack create the object of a frame that has none), an
 * allocation of the kind the interpreter itself makes at any call; the
 * cyclic collector is held off meanwhile (PyGC_Disable: in 3.10 and 3.11 a
 * collection may start at any allocation and run finalizers, Python code;
 * 3.9 has none, and there nothing read makes an object it tracks),
 * and the error indicator is saved before and put back after, so a pending
 * exception is neither seen nor lost. Nothing here runs Python code: no
 * attribute is looked up on an object whose type the program may define.
 *
 * Each frame read becomes an interned (file, function, line), kept for the
 * life of the process like the stacks that name it. */
#include "support/python.h"
#include "support/idtable.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "support/util.h"

#include <dlfcn.h>
#include <pthread.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct _object PyObject;    /* opaque: only pointers pass through here */

/* The interpreter's functions, NULL when absent in this version. */
static struct {
    int (*IsInitialized)(void);
    int (*IsFinalizing)(void);                  /* Py_IsFinalizing (3.13), _Py_IsFinalizing */
    int (*GILState_Check)(void);
    void *(*GILState_GetThisThreadState)(void);
    void *(*ThreadState_UncheckedGet)(void);    /* the thread state that runs here, if any */
    PyObject *(*ThreadState_GetFrame)(void *);
    PyObject *(*Frame_GetBack)(PyObject *);
    PyObject *(*Frame_GetCode)(PyObject *);
    int (*Frame_GetLineNumber)(PyObject *);
    int (*Frame_GetLasti)(PyObject *);                      /* 3.11 */
    int (*Bytes_AsStringAndSize)(PyObject *, char **, ssize_t *);
    long (*Long_AsLong)(PyObject *);
    PyObject *(*Frame_GetVar)(PyObject *, PyObject *);      /* 3.12 */
    PyObject *(*Weakref_NewRef)(PyObject *, PyObject *);
    PyObject *(*Weakref_GetObject)(PyObject *);             /* borrowed; to 3.14 */
    int (*Weakref_GetRef)(PyObject *, PyObject **);         /* 3.13 */
    void *(*ThreadState_GetInterpreter)(void *);
    void *(*InterpreterState_Main)(void);
    int (*AtExit)(void (*)(void));
    PyObject *(*Frame_GetLocals)(PyObject *);               /* 3.11 */
    PyObject *(*Object_GetAttr)(PyObject *, PyObject *);
    PyObject *(*Function_GetCode)(PyObject *);              /* borrowed */
    PyObject *(*Object_GenericGetDict)(PyObject *, void *);
    PyObject *(*Dict_GetItemWithError)(PyObject *, PyObject *);
    PyObject *(*Unicode_InternFromString)(const char *);
    const char *(*Unicode_AsUTF8AndSize)(PyObject *, ssize_t *);
    void (*DecRef)(PyObject *);
    void (*Err_Fetch)(PyObject **, PyObject **, PyObject **);
    void (*Err_Restore)(PyObject *, PyObject *, PyObject *);
    PyObject *(*Err_GetRaisedException)(void);              /* 3.12 */
    void (*Err_SetRaisedException)(PyObject *);
    void (*Err_Clear)(void);
    int (*GC_Disable)(void);
    int (*GC_Enable)(void);
    const char *(*GetVersion)(void);
    void *Dict_Type, *Unicode_Type, *Function_Type, *Bytes_Type, *Long_Type;
} py;

static int found;                       /* the API above is complete */
static int py_minor;                    /* 3.py_minor; 0 when unknown */
static uintptr_t code_lo, code_hi;      /* the interpreter's code: its executable segment */
static uintptr_t eval_lo, eval_hi;      /* _PyEval_EvalFrameDefault, 0 0 when its size is unknown */
static char stdlib_dir[512];            /* ".../lib/python3.11/", "" unknown */
static size_t stdlib_len;
static char start_dir[512];             /* the working directory at start-up, with a final '/' */
static size_t start_len;
static uintptr_t restorer;              /* glibc's signal return trampoline, 0 not known yet */
static int restorer_tries;
static __thread int reading __attribute__((tls_model("initial-exec")));

/* Interned names, made under the GIL at the first reading. */
static PyObject *s_filename, *s_qualname, *s_co_name, *s_self, *s_name, *s_target;
static PyObject *s_linetable, *s_firstlineno, *s_f_locals;

static void *sym(const char *name)
{
    return dlsym(RTLD_DEFAULT, name);
}

static int find_code(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && probe >= lo && probe < lo + ph->p_memsz) {
            code_lo = lo;
            code_hi = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

/* The standard library is PREFIX/lib/pythonX.Y/ where the interpreter is
 * PREFIX/lib/libpythonX.Y.so or PREFIX/bin/pythonX.Y. */
static void find_stdlib(void)
{
    Dl_info info;
    char path[400];
    if (!dladdr((void *)py.IsInitialized, &info) || !info.dli_fname)
        return;
    const char *object = info.dli_fname;
    if (!object[0] || !strchr(object, '/')) {       /* the main program: its real path */
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            return;
        path[n] = 0;
    } else {
        snprintf(path, sizeof path, "%s", object);
    }
    const char *version = py.GetVersion ? py.GetVersion() : "";
    int major = 0, minor = 0;
    if (sscanf(version, "%d.%d", &major, &minor) != 2)
        return;
    char *slash = strrchr(path, '/');       /* PREFIX/lib or PREFIX/bin */
    if (!slash)
        return;
    *slash = 0;
    slash = strrchr(path, '/');             /* PREFIX */
    if (!slash)
        return;
    *slash = 0;
    snprintf(stdlib_dir, sizeof stdlib_dir, "%s/lib/python%d.%d/", path, major, minor);
    stdlib_len = strlen(stdlib_dir);
}

/* ---- where the thread's Python code is, for every acquisition ----
 *
 * The interpreter takes every Lock from one C call site, so a lock-order
 * context keyed by the caller's address stands for every Python line that
 * takes the same lock under the same locks: the stack it keeps is the
 * first line's. The innermost frame's instruction tells the lines apart,
 * and reading it through the API costs a frame object; it is read from the
 * interpreter's own structures instead, three loads, with the offsets of
 * each version below (from its headers: PyThreadState, _PyCFrame,
 * _PyInterpreterFrame; 3.10's PyFrameObject), used only once the first
 * stack read through the API found the same frame, code and instruction
 * there. A build laid out otherwise (a debug build, a version not listed)
 * fails that check and keys by the C call site alone, as before. */
typedef struct layout {
    int minor;
    int16_t thread_frame;       /* PyThreadState: cframe (3.11, 3.12); current_frame (3.13);
                                   frame (3.10) */
    int16_t cframe_current;     /* _PyCFrame.current_frame; -1: no cframe (3.10, 3.13) */
    int16_t frame_code;         /* the frame's code object (3.13: f_executable) */
    int16_t frame_instr;        /* prev_instr (3.11, 3.12), instr_ptr (3.13); f_lasti, an
                                   int (3.10) */
    int16_t object_frame;       /* PyFrameObject.f_frame; 0: the frame is the object (3.10) */
    int16_t code_start;         /* PyCodeObject.co_code_adaptive (3.11 on) */
    int16_t frame_previous;     /* the caller's frame: previous (3.11 on); f_back (3.10) */
    int16_t thread_ident;       /* PyThreadState.thread_id: the pthread_t of its thread */
    int16_t frame_locals;       /* f_localsplus, the arguments first (3.9, which has no other
                                   way to them that makes no object); 0 unused */
} layout;

static const layout layouts[] = {
    { 9, 24, -1, 32, 104, 0, 0, 24, 176, 360 },
    { 10, 24, -1, 32, 96, 0, 0, 24, 176, 0 },
    { 11, 56, 8, 32, 56, 24, 184, 48, 152, 0 },
    { 12, 56, 0, 0, 56, 24, 192, 8, 136, 0 },
    { 13, 72, -1, 0, 56, 24, 200, 8, 152, 0 },
};

static const layout *position_layout;  /* this version's, NULL none */
static int position_state;             /* 0 not checked yet, 1 checked, -1 off */
static int ident_known;                /* thread_ident checked with position_state */
static int position_tries;
static int path_state, path_tries;     /* the same, for the caller links (lr_python_path) */

static void choose_layout(void)
{
    int major = 0, minor = 0;
    if (!py.ThreadState_UncheckedGet || !py.GetVersion ||
        sscanf(py.GetVersion(), "%d.%d", &major, &minor) != 2 || major != 3)
        return;
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].minor == minor)
            position_layout = &layouts[i];
    if (minor >= 11 && !py.Frame_GetLasti)
        position_layout = NULL;
}

static char *load_ptr(const void *base, int offset)
{
    return *(char *const *)((const char *)base + offset);
}

/* The innermost frame's record: the interpreter frame (3.11, 3.12) or the
 * frame object (3.10), NULL when no Python code runs. The thread state is
 * the calling thread's own. */
static char *innermost(const layout *l, void *ts)
{
    char *p = load_ptr(ts, l->thread_frame);
    if (p && l->cframe_current >= 0)
        p = load_ptr(p, l->cframe_current);
    return p;
}

/* The calling thread's state when it holds the GIL, else NULL. 3.10 and
 * 3.11 give the GIL's holder, 3.12 this thread's state while it holds the
 * GIL (NULL once it let the GIL go); either way, this thread's own when it
 * holds the GIL. The frames are then this thread's, and no other thread
 * changes them. */
static inline __attribute__((always_inline)) void *holding_gil(void)
{
    void *ts = py.ThreadState_UncheckedGet();
    if (!ts)
        return NULL;
    /* The thread state that runs (the GIL holder's, 3.10 and 3.11; this
     * thread's, 3.12 on) is this thread's: made by it, which its thread
     * id says, or (unchecked) the one the interpreter keeps for it, a
     * pthread_getspecific and two calls more */
    if (__atomic_load_n(&ident_known, __ATOMIC_ACQUIRE))
        return *(const unsigned long *)((const char *)ts + position_layout->thread_ident) ==
                       (unsigned long)pthread_self()
                   ? ts
                   : NULL;
    return ts == py.GILState_GetThisThreadState() ? ts : NULL;
}

/* One frame's code and instruction, as a number. */
static uintptr_t frame_position(const layout *l, const char *frame)
{
    if (l->code_start)
        return (uintptr_t)load_ptr(frame, l->frame_instr);
    int lasti = *(const int *)(frame + l->frame_instr);
    return (uintptr_t)load_ptr(frame, l->frame_code) ^ ((uint64_t)(uint32_t)lasti << 48);
}

uintptr_t lr_python_position(void)
{
    if (__atomic_load_n(&position_state, __ATOMIC_ACQUIRE) != 1 || reading)
        return 0;
    void *ts = holding_gil();
    char *frame = ts ? innermost(position_layout, ts) : NULL;
    return frame ? frame_position(position_layout, frame) : 0;
}

int lr_python_paths_known(void)
{
    return __atomic_load_n(&path_state, __ATOMIC_ACQUIRE) == 1;
}

uint64_t lr_python_path(int depth)
{
    if (__atomic_load_n(&path_state, __ATOMIC_ACQUIRE) != 1 || reading)
        return 0;
    void *ts = holding_gil();
    const layout *l = position_layout;
    const char *frame = ts ? innermost(l, ts) : NULL;
    if (!frame)
        return 0;
    uint64_t h = 0x9ae16a3b2f90404full;
    for (int i = 0; frame && i < depth; i++, frame = load_ptr(frame, l->frame_previous))
        h = (h ^ frame_position(l, frame)) * 0xff51afd7ed558ccdull;
    return (h ^ (h >> 29)) | 1;
}

/* The layout is this interpreter's: the frame the API gives (a new
 * reference, on a thread that holds the GIL) is the one found through it,
 * with the same code and instruction. The _PyCFrame is followed only when
 * it lies on this thread's stack (the eval loop's own) or in the thread
 * state (its root one), where a wrong offset cannot make it point. A frame
 * the API skips (an incomplete one) is no verdict: tried again at later
 * stacks, a few times. */
static void check_layout(void *ts, PyObject *frame)
{
    const layout *l = position_layout;
    if (position_state != 0)
        return;
    if (!l || !frame || ++position_tries > 8) {
        __atomic_store_n(&position_state, -1, __ATOMIC_RELEASE);
        return;
    }
    char *p = load_ptr(ts, l->thread_frame);
    if (l->cframe_current >= 0) {
        uintptr_t here = (uintptr_t)__builtin_frame_address(0);
        if (!p || ((uintptr_t)p - here >= (64u << 20) && (uintptr_t)p - (uintptr_t)ts >= 512)) {
            __atomic_store_n(&position_state, -1, __ATOMIC_RELEASE);
            return;
        }
        p = load_ptr(p, l->cframe_current);
        if (!p || p != load_ptr(frame, l->object_frame))
            return;
    } else if (p != (l->object_frame ? load_ptr(frame, l->object_frame) : (char *)frame)) {
        return;
    }
    PyObject *code = py.Frame_GetCode(frame);
    int same = code && load_ptr(p, l->frame_code) == (char *)code;
    if (same && l->code_start) {
        int lasti = py.Frame_GetLasti(frame);
        same = lasti >= 0 && load_ptr(p, l->frame_instr) == (char *)code + l->code_start + lasti;
    }
    if (code)
        py.DecRef(code);
    if (!same)
        return;
    /* ts is this thread's (thread_state): its thread id is this thread's */
    if (*(const unsigned long *)((const char *)ts + l->thread_ident) == (unsigned long)pthread_self())
        __atomic_store_n(&ident_known, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&position_state, 1, __ATOMIC_RELEASE);
}

/* The caller links: the frame the API gives as the caller of the one it
 * gave is the one linked there. The API skips frames that are not yet
 * complete (or the C stack's own entry frames, 3.12): a frame in between
 * is no verdict, tried again at later stacks. */
static void check_path(PyObject *frame)
{
    const layout *l = position_layout;
    if (path_state != 0 || __atomic_load_n(&position_state, __ATOMIC_ACQUIRE) != 1)
        return;
    if (++path_tries > 64) {
        __atomic_store_n(&path_state, -1, __ATOMIC_RELEASE);
        return;
    }
    PyObject *back = py.Frame_GetBack(frame);
    if (!back)
        return;
    /* both are frame objects the API gave: their records are read as the
     * position's check read them */
    const char *mine = l->object_frame ? load_ptr(frame, l->object_frame) : (const char *)frame;
    const char *caller = l->object_frame ? load_ptr(back, l->object_frame) : (const char *)back;
    if (load_ptr(mine, l->frame_previous) == caller)
        __atomic_store_n(&path_state, 1, __ATOMIC_RELEASE);
    py.DecRef(back);
}

void lr_python_init(void)
{
#define GET(field, name) py.field = (__typeof__(py.field))sym(name)
    GET(IsInitialized, "Py_IsInitialized");
    if (!py.IsInitialized)
        return;
    GET(IsFinalizing, "Py_IsFinalizing");
    if (!py.IsFinalizing)
        GET(IsFinalizing, "_Py_IsFinalizing");
    GET(GILState_Check, "PyGILState_Check");
    GET(GILState_GetThisThreadState, "PyGILState_GetThisThreadState");
    GET(ThreadState_UncheckedGet, "PyThreadState_GetUnchecked");
    if (!py.ThreadState_UncheckedGet)
        GET(ThreadState_UncheckedGet, "_PyThreadState_UncheckedGet");
    GET(ThreadState_GetFrame, "PyThreadState_GetFrame");
    GET(Frame_GetBack, "PyFrame_GetBack");
    GET(Frame_GetCode, "PyFrame_GetCode");
    GET(Frame_GetLineNumber, "PyFrame_GetLineNumber");
    GET(Frame_GetLasti, "PyFrame_GetLasti");
    GET(Bytes_AsStringAndSize, "PyBytes_AsStringAndSize");
    GET(Long_AsLong, "PyLong_AsLong");
    GET(Frame_GetVar, "PyFrame_GetVar");
    GET(Weakref_NewRef, "PyWeakref_NewRef");
    GET(Weakref_GetRef, "PyWeakref_GetRef");
    if (!py.Weakref_GetRef)
        GET(Weakref_GetObject, "PyWeakref_GetObject");
    GET(ThreadState_GetInterpreter, "PyThreadState_GetInterpreter");
    GET(InterpreterState_Main, "PyInterpreterState_Main");
    GET(AtExit, "Py_AtExit");
    GET(Frame_GetLocals, "PyFrame_GetLocals");
    GET(Object_GetAttr, "PyObject_GetAttr");
    GET(Function_GetCode, "PyFunction_GetCode");
    GET(Object_GenericGetDict, "PyObject_GenericGetDict");
    GET(Dict_GetItemWithError, "PyDict_GetItemWithError");
    GET(Unicode_InternFromString, "PyUnicode_InternFromString");
    GET(Unicode_AsUTF8AndSize, "PyUnicode_AsUTF8AndSize");
    GET(DecRef, "Py_DecRef");
    GET(Err_Fetch, "PyErr_Fetch");
    GET(Err_Restore, "PyErr_Restore");
    GET(Err_GetRaisedException, "PyErr_GetRaisedException");
    GET(Err_SetRaisedException, "PyErr_SetRaisedException");
    GET(Err_Clear, "PyErr_Clear");
    GET(GC_Disable, "PyGC_Disable");
    GET(GC_Enable, "PyGC_Enable");
    GET(GetVersion, "Py_GetVersion");
    GET(Dict_Type, "PyDict_Type");
    GET(Unicode_Type, "PyUnicode_Type");
    GET(Function_Type, "PyFunction_Type");
    GET(Bytes_Type, "PyBytes_Type");
    GET(Long_Type, "PyLong_Type");
#undef GET
    int errors = (py.Err_GetRaisedException && py.Err_SetRaisedException) ||
                 (py.Err_Fetch && py.Err_Restore);
    int major = 0;
    if (!py.GetVersion || sscanf(py.GetVersion(), "%d.%d", &major, &py_minor) != 2 || major != 3)
        py_minor = 0;
    /* PyGC_Disable is 3.10's. 3.9 has none, and no reading there makes an
     * object the collector tracks (its frames are objects already, and
     * nothing is asked that it lacks, which would make an exception), so
     * no collection can start; older interpreters are left alone. */
    int collector = (py.GC_Disable && py.GC_Enable) || py_minor == 9;
    found = py.GILState_Check && py.GILState_GetThisThreadState && py.ThreadState_GetFrame &&
            py.Frame_GetBack && py.Frame_GetCode && py.Frame_GetLineNumber && py.Object_GetAttr &&
            py.Unicode_InternFromString && py.Unicode_AsUTF8AndSize && py.DecRef && py.Err_Clear &&
            collector && py.Unicode_Type && errors;
    if (!found)
        return;
    dl_iterate_phdr(find_code, (void *)py.IsInitialized);
    /* The loop that runs Python code: exported (3.9 to 3.13), its size
     * read from the dynamic symbol table */
    void *eval = sym("_PyEval_EvalFrameDefault");
    Dl_info info;
    const ElfW(Sym) *entry = NULL;
    if (eval && dladdr1(eval, &info, (void **)&entry, RTLD_DL_SYMENT) && entry && entry->st_size &&
        lr_python_interpreter_code((uintptr_t)eval + 1)) {
        eval_lo = (uintptr_t)eval;
        eval_hi = eval_lo + entry->st_size;
    }
    find_stdlib();
    choose_layout();
    if (getcwd(start_dir, sizeof start_dir - 1) && strcmp(start_dir, "/") != 0) {
        start_len = strlen(start_dir);
        start_dir[start_len++] = '/';
        start_dir[start_len] = 0;
    }
}

const char *lr_python_shown_file(const char *file)
{
    if (start_len && !strncmp(file, start_dir, start_len) && file[start_len])
        return file + start_len;
    return file;
}

int lr_python_present(void)
{
    return found;
}

int lr_python_interpreter_code(uintptr_t pc)
{
    return pc >= code_lo && pc < code_hi;
}

int lr_python_eval_loop(uintptr_t pc)
{
    return pc - eval_lo < eval_hi - eval_lo;
}

int lr_python_library_file(const char *file)
{
    if (!strncmp(file, "<frozen ", 8))
        return 1;
    return stdlib_len && !strncmp(file, stdlib_dir, stdlib_len) &&
           strncmp(file + stdlib_len, "test/", 5) != 0;
}

/* ---- the interned frames ---- */

typedef struct record {
    uint64_t hash;
    int line;
    const char *file, *function;
} record;

#define STRINGS_MAX (1u << 20)

static lr_idtable frames;               /* the frames by id, under frames_lock */
static const char **strings;            /* interned text, open addressing */
static uint32_t strings_cap, strings_count;
static lr_ilock frames_lock = LR_ILOCK_INIT;   /* a leaf: only the arena's is taken inside */

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Text kept once: file names repeat in every frame of their module. */
static const char *intern_string(const char *s, size_t n)
{
    if (!strings) {
        strings_cap = 512;     /* one page: it grows as it fills */
        strings = lr_map(strings_cap * sizeof *strings);
        if (!strings)
            return NULL;
    }
    if ((strings_count + 1) * 2 >= strings_cap) {
        if (strings_cap >= STRINGS_MAX)
            return NULL;
        uint32_t cap = strings_cap * 2;
        const char **grown = lr_map(cap * sizeof *grown);
        if (!grown)
            return NULL;
        for (uint32_t i = 0; i < strings_cap; i++) {
            if (!strings[i])
                continue;
            uint32_t j = (uint32_t)hash_bytes(0xcbf29ce484222325ull, strings[i], strlen(strings[i])) & (cap - 1);
            while (grown[j])
                j = (j + 1) & (cap - 1);
            grown[j] = strings[i];
        }
        lr_unmap(strings, strings_cap * sizeof *strings);
        strings = grown;
        strings_cap = cap;
    }
    uint32_t j = (uint32_t)hash_bytes(0xcbf29ce484222325ull, s, n) & (strings_cap - 1);
    for (; strings[j]; j = (j + 1) & (strings_cap - 1))
        if (!strncmp(strings[j], s, n) && strings[j][n] == 0)
            return strings[j];
    char *copy = lr_arena_alloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = 0;
    strings[j] = copy;
    strings_count++;
    return copy;
}

typedef struct frame_key {
    const char *file, *function;
    size_t flen, fnlen;
    int line;
} frame_key;

static int same_frame(const void *record_, const void *key_)
{
    const record *r = record_;
    const frame_key *k = key_;
    return r->line == k->line && !strncmp(r->file, k->file, k->flen) && !r->file[k->flen] &&
           !strncmp(r->function, k->function, k->fnlen) && !r->function[k->fnlen];
}

/* The id of (file, function, line), 0 when out of memory. */
static uint32_t intern_frame(const char *file, size_t flen, const char *function, size_t fnlen,
                             int line)
{
    uint64_t h = hash_bytes(0xcbf29ce484222325ull, file, flen);
    h = hash_bytes(h ^ 0x2f, function, fnlen);
    h = (h ^ (uint64_t)(unsigned)line) * 0x100000001b3ull;
    h |= 1;
    frame_key key = { file, function, flen, fnlen, line };
    uint32_t slot;
    lr_ilock_take(&frames_lock);
    uint32_t id = lr_idtable_find(&frames, h, same_frame, &key, &slot);
    if (!id && slot != UINT32_MAX) {
        record *r = lr_arena_alloc(sizeof *r);
        const char *f = intern_string(file, flen), *fn = intern_string(function, fnlen);
        if (r && f && fn) {
            r->hash = h;
            r->line = line;
            r->file = f;
            r->function = fn;
            id = lr_idtable_add(&frames, slot, r);
        }
    }
    lr_ilock_drop(&frames_lock);
    return id;
}

int lr_python_frame(uintptr_t pc, lr_py_frame *out)
{
    if (!lr_python_is_frame(pc))
        return -1;
    record *r = lr_idtable_get(&frames, (uint32_t)(pc & 0xffffffffu));
    if (!r)
        return -1;
    out->file = r->file;
    out->function = r->function;
    out->line = r->line;
    return 0;
}

/* ---- reading the interpreter ---- */

/* glibc's __restore_rt is the return address of every signal handler's
 * frame; sigaction reports it for any signal that has a handler. */
static void find_restorer(void)
{
    if (restorer || restorer_tries >= 16)
        return;
    restorer_tries++;
    for (int sig = 1; sig < 32 && !restorer; sig++) {
        struct sigaction sa;
        if (sig != SIGKILL && sig != SIGSTOP && syscall(SYS_rt_sigaction, sig, NULL, &sa, 8) == 0) {
            /* the kernel's layout: handler, flags, restorer, mask */
            struct { void *handler; unsigned long flags; void *restorer; } *k = (void *)&sa;
            if (k->handler != SIG_DFL && k->handler != SIG_IGN && (k->flags & 0x04000000 /* SA_RESTORER */))
                restorer = (uintptr_t)k->restorer;
        }
    }
}

static int signal_frame(void *const *pcs, int n)
{
    find_restorer();
    if (!restorer)
        return 0;           /* no handler anywhere: no signal frame either */
    for (int i = 0; i < n; i++)
        if ((uintptr_t)pcs[i] - restorer + 1 <= 17)
            return 1;
    return 0;
}

/* The thread holds the GIL, and the interpreter runs: neither starting nor
 * ending. */
static void *thread_state(void)
{
    if (!found || reading || !py.IsInitialized() || (py.IsFinalizing && py.IsFinalizing()) ||
        !py.GILState_Check())
        return NULL;
    void *ts = py.GILState_GetThisThreadState();
    /* PyGILState_Check says yes when it cannot tell (subinterpreters):
     * the thread state that runs here must be this thread's */
    if (ts && py.ThreadState_UncheckedGet && py.ThreadState_UncheckedGet() != ts)
        return NULL;
    return ts;
}

typedef struct saved {
    PyObject *type, *value, *tb, *raised;
    int gc;
} saved;

static int begin(saved *s)
{
    reading = 1;
    s->type = s->value = s->tb = s->raised = NULL;
    if (py.Err_GetRaisedException)
        s->raised = py.Err_GetRaisedException();
    else
        py.Err_Fetch(&s->type, &s->value, &s->tb);
    s->gc = py.GC_Disable ? py.GC_Disable() : 0;
    if (!s_filename) {
        s_filename = py.Unicode_InternFromString("co_filename");
        s_qualname = py.Unicode_InternFromString("co_qualname");   /* 3.11 */
        s_co_name = py.Unicode_InternFromString("co_name");
        s_self = py.Unicode_InternFromString("self");
        s_name = py.Unicode_InternFromString("_name");
        s_target = py.Unicode_InternFromString("_target");
        s_linetable = py.Unicode_InternFromString("co_linetable");
        s_firstlineno = py.Unicode_InternFromString("co_firstlineno");
        s_f_locals = py.Unicode_InternFromString("f_locals");
        py.Err_Clear();
    }
    return s_filename != NULL;
}

static void end(saved *s)
{
    py.Err_Clear();
    if (s->gc)
        py.GC_Enable();
    if (py.Err_SetRaisedException)
        py.Err_SetRaisedException(s->raised);
    else
        py.Err_Restore(s->type, s->value, s->tb);
    reading = 0;
}

static int is_str(PyObject *o)
{
    return o && *(void **)((char *)o + sizeof(intptr_t)) == py.Unicode_Type;   /* ob_type */
}

/* A str attribute of a code object as UTF-8 (new reference in *ref). */
static const char *code_text(PyObject *code, PyObject *attr, PyObject **ref, ssize_t *len)
{
    *ref = attr ? py.Object_GetAttr(code, attr) : NULL;
    if (!*ref) {
        py.Err_Clear();
        return NULL;
    }
    const char *s = is_str(*ref) ? py.Unicode_AsUTF8AndSize(*ref, len) : NULL;
    if (!s)
        py.Err_Clear();
    return s;
}

/* ---- lines, remembered ----
 *
 * PyFrame_GetLineNumber scans the code's line table from its start: 1,900
 * instructions a frame on bench/pythreads.py, two thirds of the cost of
 * reading a stack. What it computes is a function of the code's line
 * table, its first line and the frame's instruction offset
 * (PyFrame_GetLasti, 3.11 on; f_lineno, which it returns instead while a
 * trace function runs, is the line of that same offset). So the frame id
 * a (table, first line, offset) gave is remembered, and given again when
 * the table (compared byte for byte), the first line, the offset, the file
 * and the function all match: never on a code object's address alone, as a
 * code object that died may leave its address to another. */

typedef struct code_entry {
    uintptr_t code;             /* where it was seen: a hint only */
    long first;
    size_t len;
    const char *table;          /* a copy of co_linetable */
} code_entry;

typedef struct line_slot {
    const code_entry *code;
    int lasti;
    uint32_t id;
} line_slot;

#define CODES 1024              /* direct-mapped: a collision only costs a reading */
#define LINES 8192              /* at most */
#define TABLES_MAX (8u << 20)   /* bytes of copied tables: then lines are no longer remembered */

static size_t mix(uintptr_t a, uintptr_t b)
{
    uint64_t h = ((uint64_t)a ^ ((uint64_t)b << 32)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 40);
}

/* A direct-mapped cache that starts small: every page of one, touched at
 * random, is a page fault (about 14 us on the virtual machine measured),
 * and `python3 -c pass` took 47 of them in the two caches below when they
 * were made at their full size. It grows fourfold, up to max slots, once a
 * quarter of its slots are used. Its sizes are powers of two and an
 * entry's slot is its hash modulo the size, so each entry has a slot of
 * its own in the bigger table (the new slot, modulo the old size, is the
 * old one): growing loses nothing. Under frames_lock. */
typedef struct cache {
    void *slots;
    uint32_t cap, used;
} cache;

#define CACHE_FIRST 256

/* The slot for hash h, NULL when there is no table. Before storing into
 * an empty slot, call cache_filled. */
static void *cache_slot(const cache *c, size_t size, size_t h)
{
    return c->slots ? (char *)c->slots + (h & (c->cap - 1)) * size : NULL;
}

/* Makes the first table, or a bigger one when due; the old table stays in
 * use when no new one can be mapped. hash(slot) is 0 for an empty slot's
 * (live 0). */
static void cache_reserve(cache *c, size_t size, uint32_t max, size_t (*hash)(const void *slot, int *live))
{
    if (c->slots && (c->used + 1) * 4 <= c->cap)
        return;
    if (c->slots && c->cap >= max)
        return;
    uint32_t cap = c->slots ? c->cap * 4 : CACHE_FIRST;
    if (cap > max)
        cap = max;
    char *fresh = lr_map(cap * size);
    if (!fresh)
        return;
    for (uint32_t i = 0; c->slots && i < c->cap; i++) {
        const char *old = (const char *)c->slots + i * size;
        int live;
        size_t h = hash(old, &live);
        if (live)
            memcpy(fresh + (h & (cap - 1)) * size, old, size);
    }
    lr_unmap(c->slots, c->cap * size);
    c->slots = fresh;
    c->cap = cap;
}

static code_entry **codes;      /* by code address; under frames_lock */
static cache lines;             /* line_slot by entry and offset; under frames_lock */
static size_t tables_size;

static size_t line_hash(const void *slot, int *live)
{
    const line_slot *l = slot;
    *live = l->code != NULL;
    return mix((uintptr_t)l->code, (uintptr_t)l->lasti);
}

/* The entry of a code object with this table and first line; NULL when
 * none can be made. Under frames_lock. */
static const code_entry *code_of(uintptr_t code, const char *table, size_t len, long first)
{
    if (!codes) {
        codes = lr_map(CODES * sizeof *codes);
        if (!codes)
            return NULL;
    }
    code_entry **slot = &codes[mix(code, 0) % CODES];
    code_entry *e = *slot;
    if (e && e->code == code && e->first == first && e->len == len && !memcmp(e->table, table, len))
        return e;
    if (tables_size + len > TABLES_MAX)
        return NULL;
    e = lr_arena_alloc(sizeof *e + len);
    if (!e)
        return NULL;
    char *copy = (char *)(e + 1);
    memcpy(copy, table, len);
    *e = (code_entry){ .code = code, .first = first, .len = len, .table = copy };
    tables_size += len;
    *slot = e;
    return e;
}

static int same_text(const char *kept, const char *s, size_t n)
{
    return !strncmp(kept, s, n) && !kept[n];
}

/* The id remembered for this frame, 0 none; *entry and *lasti say where to
 * remember a new one (NULL: nowhere). */
static uint32_t remembered(PyObject *frame, PyObject *code, const char *file, size_t flen,
                           const char *name, size_t nlen, const code_entry **entry, int *lasti)
{
    *entry = NULL;
    if (!py.Frame_GetLasti || !py.Bytes_AsStringAndSize || !py.Long_AsLong || !s_linetable ||
        !s_firstlineno || (*lasti = py.Frame_GetLasti(frame)) < 0)
        return 0;
    PyObject *table = py.Object_GetAttr(code, s_linetable);
    PyObject *first = table ? py.Object_GetAttr(code, s_firstlineno) : NULL;
    char *bytes = NULL;
    ssize_t len = 0;
    long line1 = -1;
    if (first && *(void **)((char *)first + sizeof(intptr_t)) == py.Long_Type &&
        *(void **)((char *)table + sizeof(intptr_t)) == py.Bytes_Type &&
        py.Bytes_AsStringAndSize(table, &bytes, &len) == 0)
        line1 = py.Long_AsLong(first);
    uint32_t id = 0;
    if (bytes && line1 >= 0) {
        lr_ilock_take(&frames_lock);
        const code_entry *e = code_of((uintptr_t)code, bytes, (size_t)len, line1);
        if (e) {
            line_slot *l = cache_slot(&lines, sizeof *l, mix((uintptr_t)e, (uintptr_t)*lasti));
            record *r = l && l->code == e && l->lasti == *lasti ? lr_idtable_get(&frames, l->id) : NULL;
            if (r && same_text(r->file, file, flen) && same_text(r->function, name, nlen))
                id = l->id;
            *entry = e;
        }
        lr_ilock_drop(&frames_lock);
    }
    py.Err_Clear();
    if (first)
        py.DecRef(first);
    if (table)
        py.DecRef(table);
    return id;
}

static void remember(const code_entry *e, int lasti, uint32_t id)
{
    lr_ilock_take(&frames_lock);
    cache_reserve(&lines, sizeof(line_slot), LINES, line_hash);
    line_slot *l = cache_slot(&lines, sizeof *l, mix((uintptr_t)e, (uintptr_t)lasti));
    if (l) {
        lines.used += l->code == NULL;
        *l = (line_slot){ e, lasti, id };
    }
    lr_ilock_drop(&frames_lock);
}

/* ---- frames, known by their live code object ----
 *
 * Even remembered, a line costs four attribute reads of the code object
 * and a comparison of its line table: 700 instructions a frame, most of
 * what a Python stack costs. A code object never changes, so while it
 * lives, its address and an instruction offset name one frame: the id is
 * kept by (code, offset) with a weak reference to the code, and given
 * again while that reference still answers that object (a code object
 * that died clears its references before its address can be reused). The
 * reference has no callback and holds nothing alive; dropping one runs no
 * Python code. 3.11 on (PyFrame_GetLasti), in the main interpreter only:
 * its objects end with Py_Finalize, which empties the cache (Py_AtExit)
 * before an interpreter initialised again could reuse their addresses; a
 * subinterpreter ends without a word. */

typedef struct quick_slot {
    uintptr_t code;
    PyObject *ref;              /* a weak reference to the code object, NULL none */
    void *interp;               /* the interpreter it was made in */
    int lasti;
    uint32_t id;
} quick_slot;

#define QUICK 4096              /* at most; a collision only costs a reading */
static cache quick;             /* quick_slot; under frames_lock */
static int quick_state;         /* 0 not yet, 1 emptied at Py_Finalize, -1 not used */

static size_t quick_hash(const void *slot, int *live)
{
    const quick_slot *q = slot;
    *live = q->ref != NULL;
    return mix(q->code, (uintptr_t)q->lasti);
}

/* Py_FinalizeEx calls it at its end, and forgets it: the interpreter's
 * objects are gone, and one initialised again registers it again. */
static void quick_forget(void)
{
    lr_ilock_take(&frames_lock);
    if (quick.slots)
        memset(quick.slots, 0, quick.cap * sizeof(quick_slot));
    quick.used = 0;
    quick_state = 0;
    lr_ilock_drop(&frames_lock);
}

/* 1 when frames of this interpreter may be known by their code (under the
 * GIL) */
static int quick_usable(void *interp)
{
    if (!quick_state)
        quick_state = py.Frame_GetLasti && py.Weakref_NewRef && (py.Weakref_GetRef || py.Weakref_GetObject) &&
                      py.InterpreterState_Main && py.AtExit && py.AtExit(quick_forget) == 0 ? 1 : -1;
    return quick_state > 0 && interp && interp == py.InterpreterState_Main();
}

static int same_object(PyObject *ref, PyObject *code)
{
    if (py.Weakref_GetRef) {
        PyObject *o = NULL;
        int r = py.Weakref_GetRef(ref, &o);
        if (o)
            py.DecRef(o);
        return r == 1 && o == code;
    }
    return py.Weakref_GetObject(ref) == code;
}

static uint32_t quick_find(void *interp, PyObject *code, int lasti)
{
    uint32_t id = 0;
    PyObject *ref = NULL;
    lr_ilock_take(&frames_lock);
    quick_slot *q = cache_slot(&quick, sizeof *q, mix((uintptr_t)code, (uintptr_t)lasti));
    if (q && q->ref && q->code == (uintptr_t)code && q->lasti == lasti && q->interp == interp) {
        id = q->id;
        ref = q->ref;
    }
    lr_ilock_drop(&frames_lock);
    /* the reference is asked outside the lock: only this interpreter's
     * threads, which hold its GIL, ever drop it (quick_keep) */
    if (id && !same_object(ref, code)) {
        py.Err_Clear();
        id = 0;
    }
    return id;
}

static void quick_keep(void *interp, PyObject *code, int lasti, uint32_t id)
{
    PyObject *ref = py.Weakref_NewRef(code, NULL), *old = NULL;
    if (!ref) {
        py.Err_Clear();
        return;
    }
    lr_ilock_take(&frames_lock);
    cache_reserve(&quick, sizeof(quick_slot), QUICK, quick_hash);
    quick_slot *q = cache_slot(&quick, sizeof *q, mix((uintptr_t)code, (uintptr_t)lasti));
    if (q && (!q->ref || q->interp == interp)) {   /* another interpreter's reference is its own to drop */
        old = q->ref;
        quick.used += old == NULL;
        *q = (quick_slot){ (uintptr_t)code, ref, interp, lasti, id };
        ref = NULL;
    }
    lr_ilock_drop(&frames_lock);
    if (old)
        py.DecRef(old);
    if (ref)
        py.DecRef(ref);
}

static uint32_t frame_id(void *interp, PyObject *frame)
{
    PyObject *code = py.Frame_GetCode(frame);
    if (!code)
        return 0;
    int at = quick_usable(interp) ? py.Frame_GetLasti(frame) : -1;
    uint32_t id = at >= 0 ? quick_find(interp, code, at) : 0;
    if (id) {
        py.DecRef(code);
        return id;
    }
    PyObject *fref, *nref = NULL;
    ssize_t flen = 0, nlen = 0;
    const char *file = code_text(code, s_filename, &fref, &flen);
    /* co_qualname is 3.11's: not asked before (an AttributeError is an
     * object the collector tracks, 3.9) */
    const char *name = py_minor >= 11 ? code_text(code, s_qualname, &nref, &nlen) : NULL;
    if (!name) {
        if (nref)
            py.DecRef(nref);
        name = code_text(code, s_co_name, &nref, &nlen);
    }
    if (file && name) {
        const code_entry *entry;
        int lasti;
        id = remembered(frame, code, file, (size_t)flen, name, (size_t)nlen, &entry, &lasti);
        if (!id) {
            int line = py.Frame_GetLineNumber(frame);
            id = intern_frame(file, (size_t)flen, name, (size_t)nlen, line);
            if (id && entry)
                remember(entry, lasti, id);
        }
    }
    if (fref)
        py.DecRef(fref);
    if (nref)
        py.DecRef(nref);
    if (id && at >= 0)
        quick_keep(interp, code, at, id);
    py.DecRef(code);
    return id;
}

/* ---- thread names ---- */

typedef struct pyname {
    pid_t tid;
    uintptr_t handle;
    const char *name;
} pyname;

#define NAMES_MAX 65536
static pyname *names;           /* by tid % NAMES_MAX: a newer thread takes an older one's place */

/* threading.Thread._bootstrap_inner(self): self's _name and _target, read
 * from the instance's own dictionary (no attribute lookup that a class
 * could make run code). */
static void read_thread_name(PyObject *frame)
{
    static __thread int named __attribute__((tls_model("initial-exec")));
    if (named || !py.Dict_GetItemWithError || !py.Object_GenericGetDict || !py.Dict_Type)
        return;
    named = 1;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    PyObject *self = NULL, *locals = NULL;
    if (py.Frame_GetVar) {
        self = py.Frame_GetVar(frame, s_self);
    } else if (py_minor == 9) {
        /* its f_locals would be a new dictionary, an object the collector
         * tracks: the first argument, read where the layout (checked) puts
         * it, borrowed from the frame */
        if (__atomic_load_n(&position_state, __ATOMIC_ACQUIRE) == 1 && position_layout->frame_locals)
            self = (PyObject *)load_ptr(frame, position_layout->frame_locals);
    } else {
        /* 3.10 has no PyFrame_GetLocals: the frame's own f_locals (a
         * builtin type's attribute, which no program can redefine) */
        locals = py.Frame_GetLocals ? py.Frame_GetLocals(frame)
                 : s_f_locals ? py.Object_GetAttr(frame, s_f_locals) : NULL;
        if (locals && *(void **)((char *)locals + sizeof(intptr_t)) == py.Dict_Type) {
            self = py.Dict_GetItemWithError(locals, s_self);
            /* borrowed: the locals dictionary, released last, keeps it */
        }
    }
    PyObject *dict = self ? py.Object_GenericGetDict(self, NULL) : NULL;
    char text[160];
    text[0] = 0;
    if (dict && *(void **)((char *)dict + sizeof(intptr_t)) == py.Dict_Type) {
        PyObject *name = py.Dict_GetItemWithError(dict, s_name);
        ssize_t len = 0;
        const char *s = is_str(name) ? py.Unicode_AsUTF8AndSize(name, &len) : NULL;
        if (s)
            snprintf(text, sizeof text, "%.*s", (int)(len < 100 ? len : 100), s);
        PyObject *target = py.Dict_GetItemWithError(dict, s_target);
        /* a plain function: its __qualname__ is the code's. Its code
         * through the C API, not its __code__: that raises an audit event,
         * and a hook the program installed would run here, inside a
         * pthread call (in a child forked from a thread, before the
         * interpreter had made its GIL again, the hook hung it) */
        if (target && py.Function_Type && py.Function_GetCode &&
            *(void **)((char *)target + sizeof(intptr_t)) == py.Function_Type && text[0]) {
            PyObject *code = py.Function_GetCode(target);
            PyObject *ref = NULL;
            ssize_t qlen = 0;
            const char *q = code && py_minor >= 11 ? code_text(code, s_qualname, &ref, &qlen) : NULL;
            if (q && !strstr(text, q)) {
                size_t used = strlen(text);
                snprintf(text + used, sizeof text - used, ", running %.*s", (int)(qlen < 60 ? qlen : 60), q);
            }
            if (ref)
                py.DecRef(ref);
        }
    }
    if (dict)
        py.DecRef(dict);
    if (py.Frame_GetVar && self)
        py.DecRef(self);
    if (locals)
        py.DecRef(locals);
    py.Err_Clear();
    if (!text[0])
        return;
    lr_ilock_take(&frames_lock);
    if (!names)
        names = lr_map(NAMES_MAX * sizeof *names);
    const char *kept = names ? intern_string(text, strlen(text)) : NULL;
    if (kept) {
        pyname *slot = &names[(uint32_t)tid % NAMES_MAX];
        slot->tid = tid;
        slot->handle = (uintptr_t)pthread_self();
        __atomic_store_n(&slot->name, kept, __ATOMIC_RELEASE);
    }
    lr_ilock_drop(&frames_lock);
}

const char *lr_python_thread_name(pid_t tid, uintptr_t handle)
{
    if (!names || !tid)
        return NULL;
    pyname *slot = &names[(uint32_t)tid % NAMES_MAX];
    const char *name = __atomic_load_n(&slot->name, __ATOMIC_ACQUIRE);
    return name && slot->tid == tid && slot->handle == handle ? name : NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int lr_python_readable(void)
{
    return thread_state() != NULL;
}

int lr_python_capture(void *const *c_pcs, int nc, uintptr_t *out, int max)
{
    if (!found || max <= 0)
        return 0;
    void *ts = thread_state();
    if (!ts || signal_frame(c_pcs, nc))
        return 0;
    saved s;
    int n = 0;
    if (!begin(&s))
        goto done;
    void *interp = py.ThreadState_GetInterpreter ? py.ThreadState_GetInterpreter(ts) : NULL;
    PyObject *frame = py.ThreadState_GetFrame(ts);
    check_layout(ts, frame);
    if (frame)
        check_path(frame);
    while (frame && n < max) {
        uint32_t id = frame_id(interp, frame);
        if (id) {
            out[n++] = LR_PY_TAG | id;
            lr_py_frame f;
            /* 3.10's code objects have no qualified name */
            if (lr_python_frame(out[n - 1], &f) == 0 &&
                (!strcmp(f.function, "Thread._bootstrap_inner") || !strcmp(f.function, "_bootstrap_inner")) &&
                ends_with(f.file, "/threading.py"))
                read_thread_name(frame);
        }
        PyObject *back = py.Frame_GetBack(frame);
        py.DecRef(frame);
        frame = back;
    }
    if (frame)
        py.DecRef(frame);
done:
    end(&s);
    return n;
}

void lr_python_fork_prepare(void) { lr_ilock_take(&frames_lock); }
void lr_python_fork_parent(void) { lr_ilock_drop(&frames_lock); }
void lr_python_fork_child(void) { lr_ilock_reset(&frames_lock); }
