// Where deblayer works when the command line does not say: the running host's
// sysroot, and its cache and configuration directories.

export const DEFAULT_SYSROOT = '/';
export const DEFAULT_CACHE_DIR = '/var/cache/deblayer';
export const DEFAULT_CONFIG_DIR = '/etc/deblayer';
