/*
 * permissions - the queue directory's layout, owners and modes, and the
 * accounts the mail system runs as (`hikyaku set-permissions`, and the
 * preparation `hikyaku start` does). docs/master.md has the table.
 *
 * Run as root: directories belong to $mail_owner (and $setgid_group where
 * submission must reach them); the queue directory itself and pid/ belong
 * to root. Run as an ordinary user (a private instance): everything
 * belongs to that user. The configuration must be loaded (config_apply).
 */
#ifndef HIKYAKU_PERMISSIONS_H
#define HIKYAKU_PERMISSIONS_H

#include <stdbool.h>

/*
 * permissions_prepare: check that queue_directory is safe (owned by root,
 * or by the calling user for a private instance, and writable by nobody
 * else), create what is missing and fix owners and modes. With
 * create_accounts (and root), create mail_owner and setgid_group when
 * missing. With copy_chroot_files (and root), copy the files chrooted
 * daemons need into $queue_directory/etc. Problems are logged; returns
 * 0 or -1.
 */
int permissions_prepare(bool create_accounts, bool copy_chroot_files);

#endif
