import type { AuthUser } from '../../core/auth-user.js';
import { Role } from '../../core/roles.js';

/** The public view of a user: never a password or hash. */
export class UserResponseDto {
  id!: string;
  email!: string;
  name!: string;
  role!: Role;
  active!: boolean;
  /** The second factor (TOTP) is on. */
  mfaEnabled!: boolean;
  /** A link mailed to the address was used. */
  emailVerified!: boolean;
  createdAt!: Date;
  updatedAt!: Date;
}

export function toUserResponse(user: AuthUser): UserResponseDto {
  const { id, email, name, role, active, emailVerified, createdAt, updatedAt } = user;
  return {
    id,
    email,
    name,
    role,
    active,
    emailVerified,
    mfaEnabled: user.mfaEnabled ?? false,
    createdAt,
    updatedAt,
  };
}
