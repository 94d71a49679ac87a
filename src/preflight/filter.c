/*
 * filter.c - the sandbox's seccomp program: a deny list over a default of
 * allow, exported as raw BPF for the child to install (filter.h).
 */
#include "preflight/filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef RG_HAVE_SECCOMP
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* System calls that fail with EPERM inside the sandbox. */
static const char *const denied[] = {
    /* network */
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    /* new processes (clone is filtered on its flags below) */
    "fork",
    "vfork",
    /* other processes' memory */
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    /* namespaces and mounts */
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    /* the kernel itself */
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "keyctl",
    "add_key",
    "request_key",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    NULL,
};

/* Adds the rules to ctx. Returns 0 or a negative errno from libseccomp;
 * *what names the rule that failed. */
static int add_rules(scmp_filter_ctx ctx, const char **what)
{
    int rc;
    for (size_t i = 0; denied[i]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not a system call on this architecture */
        *what = denied[i];
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) != 0)
            return rc;
    }
    /* clone creating a process (not a thread): refused. */
    *what = "clone";
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
    if (rc != 0)
        return rc;
    /* clone3's flags sit behind a pointer the filter cannot read: ENOSYS
     * makes the C library fall back to clone, filtered above. */
    *what = "clone3";
    int nr = seccomp_syscall_resolve_name("clone3");
    if (nr != __NR_SCMP_ERROR)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    return rc;
}

int rg__filter_build(rg__filter *f, rg_err *err)
{
    int rc = 0, fd = -1;
    const char *what = "init";
    f->insns = NULL;
    f->len = 0;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return rg_err_set(err, RG_ENOMEM, "seccomp: cannot create a filter");
    /* The child sets no_new_privs itself; other architectures' system
     * calls (int 0x80, x32) kill the process. */
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) != 0 ||
        (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
                               SCMP_ACT_KILL_PROCESS)) != 0 ||
        (rc = add_rules(ctx, &what)) != 0) {
        rc = rg_err_set(err, RG_EIO, "seccomp: rule '%s': %s", what,
                        strerror(-rc));
        goto cleanup;
    }
    fd = memfd_create("rg-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        rc = rg_err_set(err, RG_EIO, "seccomp: memfd_create: %s",
                        strerror(errno));
        goto cleanup;
    }
    struct stat st;
    if ((rc = seccomp_export_bpf(ctx, fd)) != 0 || fstat(fd, &st) != 0 ||
        st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
        st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        rc = rg_err_set(err, RG_EIO, "seccomp: cannot export the filter");
        goto cleanup;
    }
    f->insns = malloc((size_t)st.st_size);
    if (!f->insns) {
        rc = rg_err_set(err, RG_ENOMEM, "seccomp: out of memory");
        goto cleanup;
    }
    if (pread(fd, f->insns, (size_t)st.st_size, 0) != st.st_size) {
        rc = rg_err_set(err, RG_EIO, "seccomp: cannot read the filter back");
        goto cleanup;
    }
    f->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
    rc = 0;
cleanup:
    if (rc != 0)
        rg__filter_release(f);
    if (fd >= 0)
        close(fd);
    seccomp_release(ctx);
    return rc;
}
#else
int rg__filter_build(rg__filter *f, rg_err *err)
{
    f->insns = NULL;
    f->len = 0;
    return rg_err_set(err, RG_EUNAVAIL,
                      "seccomp unavailable: built without libseccomp");
}
#endif

void rg__filter_release(rg__filter *f)
{
    free(f->insns);
    f->insns = NULL;
    f->len = 0;
}
