/* sensor.c - see sensor.h. */
#include "sensor.h"

#define H64 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* proc_exec: image cmdline pid ppid uid user parent_image image_sha256 cwd
 * session integrity signer src_ip dst_ip dst_port host tty exit_code
 * file_size script.  net_conn: process pid src_ip dst_ip dst_port proto. */
static const char *const events[] = {
    "# recorded by the rollgate sample sensor",
    "proc_exec\t/usr/bin/bash\tbash -l\t4242\t1\t1000\talice\t/usr/sbin/sshd"
    "\t" H64 "\t/home/alice\t3\tmedium\tdebian\t10.0.0.5\t10.0.0.1\t22"
    "\thost-1\tpts/0\t0\t1234\t/home/alice/.profile",
    "proc_exec\t/tmp/.x/kworker\t/tmp/.x/kworker -o pool.example:3333\t999"
    "\t4242\t1000\talice\t/usr/bin/bash\t" H64 "\t/tmp/.x\t3\tlow\t"
    "\t10.0.0.5\t203.0.113.7\t3333\thost-1\t\t0\t88211\t",
    "proc_exec\t/usr/bin/powershell\tpwsh -enc SQBFAFgA\tnot-a-pid\t1\t0"
    "\troot\t/usr/bin/sudo\t" H64 "\t/\t0\thigh\tmicrosoft\t::1"
    "\t2001:db8::7\t443\thost-2\t\t1\t0\t/root/a.ps1",
    "",
    "net_conn\t/usr/bin/curl\t5150\t10.0.0.5\t198.51.100.20\t443\ttcp",
    "net_conn\t/tmp/.x/kworker\t999\t10.0.0.5\t203.0.113.7\t3333\ttcp",
    "dns_query\texample.com\tA",
};

const char *const *rg_sensor_events(size_t *n)
{
    *n = sizeof events / sizeof events[0];
    return events;
}
