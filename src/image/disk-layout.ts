// Where the partitions of a disk image go: a GPT disk with an EFI system
// partition the firmware starts GRUB from, and one root partition holding the
// whole sysroot (its /boot included, where libostree writes the boot entries).

import { UsageError } from '../errors.js';

const MiB = 1024 * 1024;
const SECTOR = 512;
/** The first partition starts at 1 MiB (sector 2048), as every partitioner aligns. */
const FIRST = 1 * MiB;
/** The backup GPT at the end of the disk: 33 sectors, rounded to a MiB. */
const TAIL = 1 * MiB;
export const ESP_SIZE = 64 * MiB;
export const ROOT_LABEL = 'deblayer-root';

export const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
/** "Linux root (x86-64)" of the Discoverable Partitions Specification. */
export const ROOT_TYPE = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';

export interface Partition {
  name: string;
  type: string;
  /** Byte offset in the image. */
  offset: number;
  size: number;
  filesystem: 'vfat' | 'ext4';
  label: string;
}

export interface DiskLayout {
  size: number;
  esp: Partition;
  root: Partition;
}

/**
 * The smallest root file system that holds TREE bytes with ext4's own room
 * (inode tables, journal, reserved blocks).
 */
export function minimumRootSize(tree: number): number {
  return roundUp(tree * 1.15 + 192 * MiB, MiB);
}

/**
 * The layout of an image for a tree of TREE bytes: SIZE bytes in all when
 * given (an error when it cannot hold the tree), otherwise room for the tree
 * and about as much again for what the booted machine adds (new deployments
 * share unchanged files with the old one).
 */
export function diskLayout(tree: number, size?: number): DiskLayout {
  const minimum = minimumRootSize(tree);
  const overhead = FIRST + ESP_SIZE + TAIL;
  let rootSize: number;
  if (size !== undefined) {
    rootSize = roundDown(size - overhead, MiB);
    if (rootSize < minimum) {
      throw new UsageError(`--size ${formatSize(size)} is too small: the tree needs at least ${formatSize(minimum + overhead)}`);
    }
  } else {
    rootSize = roundUp(minimum + Math.max(tree, 1024 * MiB), 256 * MiB);
  }
  const esp: Partition = { name: 'EFI System', type: ESP_TYPE, offset: FIRST, size: ESP_SIZE, filesystem: 'vfat', label: 'ESP' };
  const root: Partition = { name: ROOT_LABEL, type: ROOT_TYPE, offset: FIRST + ESP_SIZE, size: rootSize, filesystem: 'ext4', label: ROOT_LABEL };
  return { size: root.offset + root.size + TAIL, esp, root };
}

/** The layout as sfdisk's input. */
export function sfdiskScript(layout: DiskLayout): string {
  const line = (p: Partition) => `start=${p.offset / SECTOR}, size=${p.size / SECTOR}, type=${p.type}, name="${p.name}"`;
  return ['label: gpt', line(layout.esp), line(layout.root), ''].join('\n');
}

/** "4G", "512M", "3.5GiB", "1000000000": bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid size '${text}': give bytes or a number with K, M, G or T (powers of 1024)`);
  const power = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

export function formatSize(bytes: number): string {
  for (const [unit, power] of [['G', 3], ['M', 2], ['K', 1]] as const) {
    if (bytes >= 1024 ** power) return `${Number((bytes / 1024 ** power).toFixed(1))}${unit}`;
  }
  return `${bytes}`;
}

function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

function roundDown(n: number, unit: number): number {
  return Math.floor(n / unit) * unit;
}
