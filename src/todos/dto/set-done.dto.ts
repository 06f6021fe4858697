import { IsBoolean } from 'class-validator';

export class SetDoneDto {
  /** A JSON boolean; strings such as "true" are refused. */
  @IsBoolean()
  done!: boolean;
}
