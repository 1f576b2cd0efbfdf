// Linux interfaces Glibc's Swift module leaves out: epoll, eventfd, sendfile.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

// accept4(2) is declared only under _GNU_SOURCE; this wrapper makes it visible.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
static inline int clinux_accept4(int fd, int flags) { return accept4(fd, 0, 0, flags); }
