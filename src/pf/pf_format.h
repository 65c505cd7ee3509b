/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/pf: the sizes and offsets of Gramine's protected-file format (docs/pf.md).
 * Node 0, the metadata node: file id (8 bytes, little-endian), major version (1), minor version
 * (1), KDF nonce (32), GCM tag of the encrypted part (16), and in version 2 only, feature flags
 * (1); then the encrypted part (bound path 772 | size 8 | root MHT key 16 | root MHT tag 16 |
 * first 3072 bytes of data); then zeros to 4096. MHT nodes: 96 (key, tag) slots of data nodes,
 * then 32 of child MHT nodes. */
#ifndef CCZ_PF_FORMAT_H
#define CCZ_PF_FORMAT_H

#define PF_NODE 4096
#define PF_KEY 16
#define PF_TAG 16
#define PF_IV 12
#define PF_NONCE 32
#define PF_SLOT (PF_KEY + PF_TAG)
#define PF_DATA_PER_MHT 96
#define PF_CHILD_MHT 32
#define PF_MHT_SLOTS_OFFSET (PF_DATA_PER_MHT * PF_SLOT)
#define PF_MD_DATA 3072
#define PF_PATH_FIELD 772
#define PF_MD_ENC (PF_PATH_FIELD + 8 + PF_KEY + PF_TAG + PF_MD_DATA) /* 3884 */
#define PF_HEADER_V1 (8 + 1 + 1 + PF_NONCE + PF_TAG)                 /* 58 */
#define PF_HEADER_V2 (PF_HEADER_V1 + 1)                              /* 59 */
#define PF_FILE_ID UINT64_C(0x46505f5346415247)                      /* "GRAFS_PF" */
#define PF_FLAG_PENDING_WRITE 0x01
/* the KDF input: counter (4) | label (64, NUL-padded) | nonce (32) | output bits (4) */
#define PF_KDF_LABEL "SGX-PROTECTED-FS-METADATA-KEY"
#define PF_KDF_LABEL_FIELD 64
#define PF_KDF_INPUT (4 + PF_KDF_LABEL_FIELD + PF_NONCE + 4)

#endif
