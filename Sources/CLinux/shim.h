// Linux interfaces Glibc's Swift module leaves out: epoll, eventfd, sendfile, accept4.
// No socket headers here: they belong to Glibc's module, and pulling them in would take
// their declarations (SOCK_STREAM, …) away from it.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>

// accept4(2) is declared only under _GNU_SOURCE; this wrapper makes it visible.
static inline int clinux_accept4(int fd, int flags) {
    extern int accept4(int sockfd, void *addr, void *addrlen, int flags);
    return accept4(fd, 0, 0, flags);
}

// prctl(2) is variadic, which Swift cannot call; PR_SET_NAME (15) names the calling thread.
static inline int clinux_set_thread_name(const char *name) {
    extern int prctl(int option, ...);
    return prctl(15, name, 0, 0, 0);
}

// malloc_trim(3) lives in <malloc.h>, which Glibc's Swift module leaves out.
static inline int clinux_malloc_trim(unsigned long pad) {
    extern int malloc_trim(unsigned long pad);
    return malloc_trim(pad);
}
