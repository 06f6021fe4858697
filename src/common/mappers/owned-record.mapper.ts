interface Id {
  toString(): string;
}

/** What every owned document has: an ObjectId, its owner's id under `ownerField`, timestamps. */
export type OwnedDocument<K extends string> = { _id: Id; createdAt: Date; updatedAt: Date } & {
  [P in K]: Id;
};

/** The fields every resource answer shares, ids as strings. */
export type OwnedRecordFields<K extends string> = {
  id: string;
  createdAt: Date;
  updatedAt: Date;
} & {
  [P in K]: string;
};

/** The id, owner and timestamps of a resource answer; each mapper adds its own fields. */
export function ownedRecordFields<K extends string>(
  doc: OwnedDocument<K>,
  ownerField: K,
): OwnedRecordFields<K> {
  const owner = { [ownerField]: doc[ownerField].toString() } as { [P in K]: string };
  return { id: doc._id.toString(), ...owner, createdAt: doc.createdAt, updatedAt: doc.updatedAt };
}
