import { Role } from '../../auth/roles.js';
import type { AuthUser } from '../../auth/auth-user.js';

/** The public view of a user: never a password or hash. */
export class UserResponseDto {
  id!: string;
  email!: string;
  name!: string;
  role!: Role;
  active!: boolean;
  createdAt!: Date;
  updatedAt!: Date;
}

export function toUserResponse(user: AuthUser): UserResponseDto {
  const { id, email, name, role, active, createdAt, updatedAt } = user;
  return { id, email, name, role, active, createdAt, updatedAt };
}
